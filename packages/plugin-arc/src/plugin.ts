import { API_VERSION, ArcIdentity, AzureCredential, definePlugin, defineService, Tokens } from '@flexnode/sdk';
import { ArcAzureContext } from './azure-context.js';
import { ArcNodeIdentity } from './node-identity.js';
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
      create: ({ host }) => new ArcNodeIdentity(host),
    }),
  ],
});
