import { API_VERSION, definePlugin } from '@flexnode/sdk';
import { kubeKernelModules } from './os/kernel-modules.js';
import { kubeSysctl } from './os/sysctl.js';

/** @flexnode/plugin-kube: what the kubelet needs of the OS, then the kubelet itself. */
export default definePlugin({
  name: '@flexnode/plugin-kube',
  apiVersion: API_VERSION,
  steps: [kubeKernelModules, kubeSysctl],
});
