import { API_VERSION, ArcIdentity, AzureCredential, definePlugin, defineService, Tokens, underRoot } from '@flexnode/sdk';
import { ArcAzureContext } from './azure-context.js';
import { ArcNodeIdentity } from './node-identity.js';
import { TOKEN_CACHE_DIR } from './paths.js';
import { arcAgent, arcConnect, arcNodeRole, arcPreflight, arcRoles } from './steps.js';

/**
 * @flexnode/plugin-arc: Azure Arc registration, the machine's managed identity and its role assignments.
 * Loads no Azure SDK: they are imported on the first Azure call (CLI start-up time is measured).
 */
export default definePlugin({
  name: '@flexnode/plugin-arc',
  apiVersion: API_VERSION,
  steps: [arcPreflight, arcAgent, arcConnect, arcNodeRole, arcRoles],
  services: [
    defineService({
      capability: AzureCredential,
      inject: { config: Tokens.Config, host: Tokens.Host, log: Tokens.Logger },
      create: ({ config, host, log }) => new ArcAzureContext(config, host, log),
    }),
    defineService({
      capability: ArcIdentity,
      inject: { host: Tokens.Host },
      // The machine's token cache, shared with `flexnode token` (the kubelet's exec plugin keeps it warm).
      create: ({ host }) => new ArcNodeIdentity(host, { cacheDir: underRoot(host.root, TOKEN_CACHE_DIR) }),
    }),
  ],
});
