import { API_VERSION, Cni, definePlugin, defineService, Tokens } from '@flexnode/sdk';
import { ciliumBpffs } from './bpffs.js';
import { ciliumNoBridgeConfig } from './bridge-config.js';
import { ciliumKernel } from './kernel-check.js';
import { ciliumCniDirs, PLUGIN_NAME } from './paths.js';
import { ciliumServiceProxy } from './service-proxy.js';
import { ciliumSysctls } from './sysctls.js';

export { ciliumBpffs, ciliumKernel, ciliumNoBridgeConfig, ciliumServiceProxy, ciliumSysctls };
export { bpffsUnit } from './bpffs.js';
export { sysctlFile } from './sysctls.js';

/**
 * @org/plugin-cilium: the node-side work Cilium needs, providing the `cni` capability instead of plugin-cni's
 * bridge network. Cilium itself (agent, operator, its CNI config) is installed into the cluster with Helm;
 * this plugin prepares the node for it. Every step provides `cni`, so all of them run only when this plugin
 * is the chosen `cni` provider. Cilium replaces kube-proxy, so the plugin provides `service-proxy` too.
 */
export default definePlugin({
  name: PLUGIN_NAME,
  apiVersion: API_VERSION,
  steps: [ciliumKernel, ciliumBpffs, ciliumSysctls, ciliumNoBridgeConfig],
  services: [
    // The `cni` service: containerd's CRI plugin looks for Cilium's CNI binary and config where the agent puts them.
    // Cilium's cluster-pool IPAM hands out pod addresses itself: no node pod range is needed (usesNodePodCIDR).
    defineService({ capability: Cni, inject: { config: Tokens.Config }, create: ({ config }) => ({ ...ciliumCniDirs(config), usesNodePodCIDR: false }) }),
    ciliumServiceProxy,
  ],
});
