import { ArcIdentity, AzureCredential, defineService, Tokens, underRoot, type Host, type NodeIdentity } from '@flexnode/sdk';
import { ArcAzureContext } from './azure-context.js';
import { tokenExecCommand } from './exec-command.js';
import type { NodeIdentityOptions } from './node-identity.js';
import { TOKEN_CACHE_DIR } from './paths.js';

// The plugin's services, in its entry (every command imports it): what they answer synchronously is computed from
// the config here; their asynchronous work loads impl.ts (the steps' operations too) on first use.

/** `azure-credential`: the operator's Azure access (azure-context.ts). */
export const azureCredentialService = defineService({
  capability: AzureCredential,
  inject: { config: Tokens.Config, host: Tokens.Host, log: Tokens.Logger },
  create: ({ config, host, log }) => new ArcAzureContext(config, host, log),
});

/**
 * The node's identity as an {@link ArcNodeIdentity} (node-identity.ts) answers, created with the first token or
 * principal id asked for; execCredential only names a command, answered here.
 */
export function deferredNodeIdentity(host: Host | undefined, options: NodeIdentityOptions = {}): NodeIdentity {
  let identity: Promise<NodeIdentity> | undefined;
  const real = () => (identity ??= import('./impl.js').then(({ ArcNodeIdentity }) => new ArcNodeIdentity(host, options)));
  return {
    getToken: async (scope) => (await real()).getToken(scope),
    principalId: async () => (await real()).principalId(),
    execCredential: (resource) => tokenExecCommand(resource, options.bin),
  };
}

/** `arc-identity`: the Arc machine's managed identity, through the machine's token cache shared with `flexnode token`. */
export const arcIdentityService = defineService({
  capability: ArcIdentity,
  inject: { host: Tokens.Host },
  // The kubelet's exec plugin (`flexnode token`) keeps the cache warm.
  create: ({ host }) => deferredNodeIdentity(host, { cacheDir: underRoot(host.root, TOKEN_CACHE_DIR) }),
});
