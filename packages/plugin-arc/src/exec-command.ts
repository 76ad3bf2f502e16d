// The command a kubeconfig runs for a token of the node's identity: what the arc-identity service's
// execCredential answers, synchronously, from the plugin's entry (services.ts) as from ArcNodeIdentity.

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
 * `flexnode token --resource R` run with the same Node.js binary (process.execPath: the kubelet's PATH under
 * systemd may not have node) and the CLI's entry point `bin`. The Arc endpoints are passed on when this process has
 * them; otherwise ManagedIdentityCredential finds the agent through /opt/azcmagent/bin/himds.
 */
export function tokenExecCommand(resource: string, bin = cliEntryPoint()): { command: string; args: string[]; env?: Record<string, string> } {
  const args = ['token', '--resource', resource];
  const env: Record<string, string> = {};
  for (const key of ['IDENTITY_ENDPOINT', 'IMDS_ENDPOINT', 'FLEXNODE_STATE_DIR'] as const) {
    if (process.env[key]) env[key] = process.env[key]!;
  }
  const withEnv = Object.keys(env).length > 0 ? { env } : {};
  return bin ? { command: process.execPath, args: [bin, ...args], ...withEnv } : { command: 'flexnode', args, ...withEnv };
}
