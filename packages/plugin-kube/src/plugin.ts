import { API_VERSION, definePlugin } from '@flexnode/sdk';
import { kubeBinaries } from './binaries/step.js';
import { kubeClusterCredentials } from './cluster/credentials-step.js';
import { kubeKubelet } from './kubelet/step.js';
import { kubeKernelModules } from './os/kernel-modules.js';
import { kubePackages } from './os/packages.js';
import { kubeSwap } from './os/swap.js';
import { kubeSysctl } from './os/sysctl.js';
import { kubePreflight } from './preflight/step.js';
import { kubeVersionSkew } from './skew/step.js';
import { nodeMaintenanceService } from './maintenance/service.js';

/**
 * @flexnode/plugin-kube: preflight, what the kubelet needs of the OS, the Kubernetes binaries, the cluster
 * credentials and the kubelet itself. Loads only the SDK and Node built-ins: the Azure SDK and the YAML library
 * are imported when a step first needs them (CLI start-up time is measured).
 */
export default definePlugin({
  name: '@flexnode/plugin-kube',
  apiVersion: API_VERSION,
  steps: [kubePreflight, kubeVersionSkew, kubeKernelModules, kubeSysctl, kubeSwap, kubePackages, kubeBinaries, kubeClusterCredentials, kubeKubelet],
  // Node maintenance for `flexnode upgrade` and the agent's upgrades: version plan, slot, cordon, drain, Ready.
  services: [nodeMaintenanceService],
});
