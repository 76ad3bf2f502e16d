import { API_VERSION, definePlugin } from '@flexnode/sdk';
import { arcIdentityService, azureCredentialService } from './services.js';
import { arcAgent, arcConnect, arcNodeRole, arcPreflight, arcRoles } from './steps.js';

/**
 * @flexnode/plugin-arc: Azure Arc registration, the machine's managed identity and its role assignments.
 * Every command imports this entry: it holds the definitions only; what the steps and services do is in impl.ts,
 * loaded on first use, and the Azure SDKs are imported on the first Azure call (CLI start-up time is measured).
 */
export default definePlugin({
  name: '@flexnode/plugin-arc',
  apiVersion: API_VERSION,
  steps: [arcPreflight, arcAgent, arcConnect, arcNodeRole, arcRoles],
  services: [azureCredentialService, arcIdentityService],
});
