import { API_VERSION, definePlugin } from '@flexnode/sdk';
import { kubeBinaries } from './binaries/step.js';
import { kubeNodeBootstrap } from './bootstrap/step.js';
import { kubeClusterCredentials } from './cluster/credentials-step.js';
import { kubeKubelet } from './kubelet/step.js';
import { kubeKernelModules } from './os/kernel-modules.js';
import { kubePackages } from './os/packages.js';
import { kubeSwap } from './os/swap.js';
import { kubeSysctl } from './os/sysctl.js';
import { kubePreflight } from './preflight/step.js';
import { kubeVersionSkew } from './skew/step.js';
import { kubeNetwork } from './network/step.js';
import { kubePodCidr } from './network/pod-cidr-step.js';
import { podCidrService } from './network/pod-cidr-service.js';
import { kubeNode } from './network/node-step.js';
import { kubeProxy } from './proxy/step.js';
import { serviceProxyService } from './proxy/service.js';
import { nodeMaintenanceService } from './maintenance/service.js';

/**
 * @flexnode/plugin-kube: preflight, what the kubelet needs of the OS, the Kubernetes binaries, the cluster
 * credentials, the node's pod range (`pod-cidr`), the kubelet, its Node object and the service proxy
 * (`service-proxy`: AKS's kube-proxy or one flexnode runs). Loads only the SDK and Node built-ins: the Azure SDK and the YAML library
 * are imported when a step first needs them (CLI start-up time is measured).
 */
export default definePlugin({
  name: '@flexnode/plugin-kube',
  apiVersion: API_VERSION,
  steps: [
    kubePreflight,
    kubeVersionSkew,
    kubeNetwork,
    kubeKernelModules,
    kubeSysctl,
    kubeSwap,
    kubePackages,
    kubeBinaries,
    kubeClusterCredentials,
    kubeNodeBootstrap,
    kubePodCidr,
    kubeKubelet,
    kubeNode,
    kubeProxy,
  ],
  // Node maintenance for `flexnode upgrade` and the agent's upgrades: version plan, slot, cordon, drain, Ready.
  services: [podCidrService, serviceProxyService, nodeMaintenanceService],
});
