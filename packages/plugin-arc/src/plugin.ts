import { API_VERSION, definePlugin } from '@flexnode/sdk';

/** @flexnode/plugin-arc: Azure Arc registration, the machine's managed identity and its role assignments. */
export default definePlugin({
  name: '@flexnode/plugin-arc',
  apiVersion: API_VERSION,
  steps: [],
});
