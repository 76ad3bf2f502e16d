import { API_VERSION, definePlugin, Tokens, type FlexnodeConfig, type Host, type Logger } from '@flexnode/sdk';
import { ArcAzureContext } from './azure-context.js';
import { ArcNodeIdentity } from './node-identity.js';
import { arcAgent, arcConnect, arcRoles } from './steps.js';

/**
 * @flexnode/plugin-arc: Azure Arc registration, the machine's managed identity and its role assignments.
 * Loads no Azure SDK: they are imported on the first Azure call (CLI start-up time is measured).
 */
export default definePlugin({
  name: '@flexnode/plugin-arc',
  apiVersion: API_VERSION,
  steps: [arcAgent, arcConnect, arcRoles],
  services: [
    {
      capability: 'azure-credential',
      inject: [Tokens.Config, Tokens.Host, Tokens.Logger],
      create: (config: FlexnodeConfig, host: Host, log: Logger) => new ArcAzureContext(config, host, log),
    },
    {
      capability: 'arc-identity',
      inject: [Tokens.Host],
      create: (host: Host) => new ArcNodeIdentity(host),
    },
  ],
});
