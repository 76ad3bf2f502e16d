import { API_VERSION, definePlugin } from '@flexnode/sdk';
import { crunConfig } from './config.js';
import { crunPackages } from './packages.js';
import { PLUGIN_NAME } from './paths.js';
import { crunRuntimeService, crunService } from './service.js';

export { crunConfig, crunContainerdConfig, renderConfig } from './config.js';
export { crunPackages } from './packages.js';
export { crunRuntimeService, crunService, STARTED_RECORD } from './service.js';
export { crunSettings, DEFAULT_PAUSE_IMAGE } from './settings.js';
export { PACKAGES, Paths, PLUGIN_NAME, RUNTIME_HANDLER, UNIT } from './paths.js';

/**
 * @org/plugin-crun: containerd with crun as its OCI runtime, from the distribution's packages. Every step is part
 * of the `container-runtime` capability, and the plugin offers that capability's service: installed, it replaces
 * all of plugin-containerd (runc, containerd's tarball, its config and unit), and the kubelet takes the CRI socket,
 * unit and cgroup driver from it.
 */
export default definePlugin({
  name: PLUGIN_NAME,
  apiVersion: API_VERSION,
  steps: [crunPackages, crunConfig, crunService],
  services: [crunRuntimeService],
});
