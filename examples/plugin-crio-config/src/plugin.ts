import { API_VERSION, definePlugin } from '@flexnode/sdk';
import { PLUGIN_NAME } from './paths.js';
import { crioConfig, crioInstalled, crioRuntimeService, crioService } from './steps.js';

export { crioConfig, crioDropIn, crioInstalled, crioRuntimeService, crioService, STARTED_RECORD } from './steps.js';
export { crioSettings } from './settings.js';
export { Paths, PLUGIN_NAME, UNIT } from './paths.js';

/**
 * @org/plugin-crio-config: the shape of a full CRI replacement. Every step is part of `container-runtime` (so none of
 * plugin-containerd's runs), and the plugin offers the capability's service, which the kubelet reads. CRI-O itself
 * comes from the distribution; this plugin checks it is there, configures it and runs it.
 */
export default definePlugin({
  name: PLUGIN_NAME,
  apiVersion: API_VERSION,
  steps: [crioInstalled, crioConfig, crioService],
  services: [crioRuntimeService],
});
