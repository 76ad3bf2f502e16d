// `flexnode token` without oclif (bin/run.js). The kubelet's exec credential plugin runs it at every kubelet start
// and at each token refresh, and on a cache hit oclif's start-up was most of the run. Only a cache hit is answered
// here, by plugin-arc's own cache code; anything else goes to plugin-arc's command through oclif, which then does
// all of it: a miss (the identity endpoint), --no-cache, a line the parser does not fully understand, debug
// output, or plugins other than the CLI's own (one of them could answer `token` instead).
import { parseArgv, type FlagSpecs } from '@flexnode/core/cli';
import { cachedExecCredential, EXEC_API_VERSIONS, type ExecApiVersion } from '@flexnode/plugin-arc/token-hit';
import { writeOut } from '../render/stdio.js';
import { cliPlugins } from './run-fast.js';

/** The flags of plugin-arc's `token` command (src/commands/token.ts there; fast.test.ts keeps the two alike). */
export const tokenFlags: FlagSpecs = {
  resource: { type: 'string', summary: 'application id or URI the token is for' },
  'api-version': { type: 'string', summary: 'ExecCredential apiVersion' },
  'cache-dir': { type: 'string', summary: 'token cache directory' },
  'no-cache': { type: 'boolean', summary: 'always ask the identity endpoint' },
  json: { type: 'boolean', summary: 'format the output as JSON' },
};

/** Run `flexnode token ARGS`: 0 once the cached credential is printed, or undefined when oclif must handle the line. */
export async function main(argv: readonly string[], cliRoot: string, _cacheDir?: string, env: NodeJS.ProcessEnv = process.env): Promise<number | undefined> {
  if (env.FLEXNODE_NO_FAST_PATH || env.DEBUG || env.FLEXNODE_DEBUG) return undefined;
  const flags = parseArgv(tokenFlags, argv.slice(1), env);
  if (!flags || typeof flags.resource !== 'string' || flags['no-cache'] === true) return undefined;
  const apiVersion = flags['api-version'] as ExecApiVersion | undefined;
  if (apiVersion !== undefined && !EXEC_API_VERSIONS.includes(apiVersion)) return undefined;
  const { listing } = cliPlugins(cliRoot, env);
  const ownOnly = listing.sources.every((s) => s.kind === 'bundled') && listing.sources.some((s) => s.name === '@flexnode/plugin-arc');
  if (!ownOnly || listing.commandHooks.length > 0 || listing.unresolved.length > 0) return undefined;
  const line = await cachedExecCredential({ resource: flags.resource, apiVersion, cacheDir: flags['cache-dir'] as string | undefined });
  if (line === undefined) return undefined;
  writeOut(1, `${line}\n`);
  return 0;
}
