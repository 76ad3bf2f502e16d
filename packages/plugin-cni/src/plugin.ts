import { API_VERSION, definePlugin } from '@flexnode/sdk';
import { cniService } from './cni-service.js';
import { cniBridgeConfig, cniPlugins } from './steps.js';

/** @flexnode/plugin-cni: the CNI plugins release and the node's default bridge network. */
export default definePlugin({
  name: '@flexnode/plugin-cni',
  apiVersion: API_VERSION,
  steps: [cniPlugins, cniBridgeConfig],
  services: [cniService],
});
