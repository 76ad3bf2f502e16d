import { Command, Flags } from '@oclif/core';
import { pathProblem } from '@flexnode/sdk';
import { MACHINE_RECORD, TOKEN_CACHE_DIR } from '../paths.js';
import {
  cachedToken,
  execApiVersion,
  execCredential,
  EXEC_API_VERSIONS,
  recordedPrincipal,
  resourceProblem,
  scopeOf,
  type ExecApiVersion,
} from '../token-cache.js';

/**
 * `flexnode token --resource R`: the kubelet's exec credential plugin. Prints a client-go ExecCredential with a
 * token of the Arc machine identity for R (the AKS server application), cached on disk until 5 minutes before it
 * expires so the kubelet's frequent calls cost a file read. The token goes to stdout only.
 */
export default class Token extends Command {
  static override summary = 'Print a Kubernetes ExecCredential with a token of the Arc machine identity.';
  static override description =
    "The exec credential plugin of the kubelet's kubeconfig. The token comes from the Azure Arc machine's managed identity (local Hybrid IMDS) and is cached (0600 files in a 0700 directory) until 5 minutes before it expires.";
  static override examples = ['<%= config.bin %> token --resource 6dae42f8-4368-4678-94ff-3960e28e3630'];

  static override flags = {
    resource: Flags.string({ required: true, description: 'application id or URI the token is for (AKS: 6dae42f8-4368-4678-94ff-3960e28e3630)' }),
    'api-version': Flags.string({
      options: [...EXEC_API_VERSIONS],
      description: 'ExecCredential apiVersion (default: what KUBERNETES_EXEC_INFO asks, else v1beta1)',
    }),
    'cache-dir': Flags.string({ default: TOKEN_CACHE_DIR, description: 'token cache directory' }),
    'no-cache': Flags.boolean({ default: false, description: 'always ask the identity endpoint' }),
    // The ExecCredential is JSON already; --json makes a failure JSON too ({"ok": false, "error": ...} on stdout), for scripts.
    json: Flags.boolean({ default: false, description: 'format the output as JSON (a failure as {"ok": false, "error": {...}})' }),
  };

  /** A flag line oclif refuses, with --json: one JSON document on stdout too (exit 2), as flexnode's other commands. */
  protected override async catch(error: Error & { oclif?: { exit?: number } }): Promise<unknown> {
    const flagsEnd = this.argv.includes('--') ? this.argv.indexOf('--') : this.argv.length;
    if (error.oclif?.exit === 2 && !error.message.startsWith('EEXIT') && this.argv.slice(0, flagsEnd).includes('--json')) {
      process.stdout.write(`${JSON.stringify({ ok: false, error: { code: 'USAGE', message: error.message } })}\n`);
      return this.exit(2);
    }
    return super.catch(error);
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Token);
    const fail = (error: { code?: string; message: string; hint?: string }, exitCode: number): never => {
      if (flags.json) process.stdout.write(`${JSON.stringify({ ok: false, error: { code: error.code, message: error.message, hint: error.hint } })}\n`);
      else process.stderr.write(`flexnode token: ${error.message}\n${error.hint ? `hint: ${error.hint}\n` : ''}`);
      return this.exit(exitCode);
    };
    // Bad input is a usage error (exit 2), refused before any cache or endpoint is touched.
    const badResource = resourceProblem(flags.resource);
    if (badResource)
      fail({ code: 'FLAG_INVALID', message: badResource, hint: 'the AKS server application is --resource 6dae42f8-4368-4678-94ff-3960e28e3630' }, 2);
    const badCacheDir = pathProblem(flags['cache-dir']);
    if (badCacheDir) fail({ code: 'FLAG_INVALID', message: `--cache-dir ${JSON.stringify(flags['cache-dir'])}: ${badCacheDir}` }, 2);
    const apiVersion = execApiVersion(flags['api-version'] as ExecApiVersion | undefined);
    const scope = scopeOf(flags.resource);
    const fetch = async (s: string) => {
      // Only a cache miss pays for @azure/identity.
      const { ArcNodeIdentity } = await import('../node-identity.js');
      return new ArcNodeIdentity(undefined).getToken(s);
    };
    try {
      const principal = await recordedPrincipal(MACHINE_RECORD);
      const { token } = flags['no-cache'] ? { token: await fetch(scope) } : await cachedToken(flags['cache-dir'], scope, fetch, Date.now(), true, principal);
      process.stdout.write(`${execCredential(token, apiVersion)}\n`);
    } catch (error) {
      fail(error as Error & { hint?: string; code?: string }, 1);
    }
  }
}
