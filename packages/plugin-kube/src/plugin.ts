import { API_VERSION, definePlugin } from '@flexnode/sdk';
import { nodeMaintenanceService, podCidrService, serviceProxyService } from './services.js';
import {
  kubeBinaries,
  kubeClusterCredentials,
  kubeKernelModules,
  kubeKubelet,
  kubeNetwork,
  kubeNode,
  kubeNodeBootstrap,
  kubePackages,
  kubePodCidr,
  kubePreflight,
  kubeProxy,
  kubeSwap,
  kubeSysctl,
  kubeVersionSkew,
} from './steps.js';

/**
 * @flexnode/plugin-kube: preflight, what the kubelet needs of the OS, the Kubernetes binaries, the cluster
 * credentials, the node's pod range (`pod-cidr`), the kubelet, its Node object and the service proxy
 * (`service-proxy`: AKS's kube-proxy or one flexnode runs). Loads only the SDK and the step and service definitions:
 * what they do (impl.ts), the Azure SDK and the YAML library are imported when a step first needs them (CLI
 * start-up time is measured).
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
