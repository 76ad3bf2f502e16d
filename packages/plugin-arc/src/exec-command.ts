// The command a kubeconfig runs for a token of the node's identity: what the arc-identity service's
// execCredential answers, synchronously, from the plugin's entry (services.ts) as from ArcNodeIdentity.
import { pathProblem } from '@flexnode/sdk';

/**
 * The CLI entry point the kubelet's exec plugin runs: FLEXNODE_BIN when set, else the script this process was
 * started with (`process.argv[1]`, e.g. /usr/local/bin/flexnode or .../@flexnode/cli/bin/run.js) when it looks
 * like flexnode's. Kept as given (not resolved through symlinks) so that an upgrade that re-points
 * /usr/local/bin/flexnode keeps working.
 */
export function cliEntryPoint(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = process.argv): string | undefined {
  if (env.FLEXNODE_BIN) return env.FLEXNODE_BIN;
  const script = argv[1];
  if (script && /(^|\/)(flexnode|run(\.js)?)$/.test(script)) return script;
  return undefined;
}

/**
 * An executable that runs flexnode by itself, Node.js included: FLEXNODE_COMMAND, which the release's bin/flexnode
 * sets to its own stable path (`<prefix>/current/bin/flexnode` once install.sh made it current). A kubeconfig that
 * runs it names neither a release's version directory nor its Node.js binary, so installing a newer flexnode leaves
 * the kubelet's kubeconfig as it is (the kubelet is not restarted for it). Only an absolute, normalised path (the
 * SDK's rule for paths) is taken: the kubelet runs it from wherever it runs.
 */
export function cliCommand(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const command = env.FLEXNODE_COMMAND;
  return command !== undefined && pathProblem(command) === undefined ? command : undefined;
}

/**
 * `flexnode token --resource R`: the release's own command (FLEXNODE_COMMAND) when there is one; else the CLI's
 * entry point `bin` run with this Node.js binary (process.execPath: the kubelet's PATH under systemd may not have
 * node); else `flexnode` from PATH. The Arc endpoints are passed on when this process has them; otherwise
 * ManagedIdentityCredential finds the agent through /opt/azcmagent/bin/himds.
 */
export function tokenExecCommand(
  resource: string,
  bin?: string,
  env: NodeJS.ProcessEnv = process.env,
): { command: string; args: string[]; env?: Record<string, string> } {
  const args = ['token', '--resource', resource];
  const passed: Record<string, string> = {};
  for (const key of ['IDENTITY_ENDPOINT', 'IMDS_ENDPOINT', 'FLEXNODE_STATE_DIR'] as const) {
    if (env[key]) passed[key] = env[key];
  }
  const withEnv = Object.keys(passed).length > 0 ? { env: passed } : {};
  const command = bin ? undefined : cliCommand(env);
  if (command) return { command, args, ...withEnv };
  const entry = bin ?? cliEntryPoint(env);
  return entry ? { command: process.execPath, args: [entry, ...args], ...withEnv } : { command: 'flexnode', args, ...withEnv };
}
