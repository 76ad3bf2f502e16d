import { API_VERSION, definePlugin } from '@flexnode/sdk';
import { cniBridgeConfig } from './bridge-config.js';
import { cniPlugins } from './cni-plugins.js';
import { cniService } from './cni-service.js';

/** @flexnode/plugin-cni: the CNI plugins release and the node's default bridge network. */
export default definePlugin({
  name: '@flexnode/plugin-cni',
  apiVersion: API_VERSION,
  steps: [cniPlugins, cniBridgeConfig],
  services: [cniService],
});
