import { defineService, ServiceProxy } from '@flexnode/sdk';

/**
 * The `service-proxy` service: Cilium's agent replaces kube-proxy (Helm value `kubeProxyReplacement=true`, as
 * Azure/AKSFlexNode's Cilium lab installs it), so the node runs no kube-proxy of its own and needs no node label for
 * AKS's: plugin-kube's kube-proxy step is left out, and one it ran before is removed. A Cilium installed without the
 * replacement needs a kube-proxy: give the capability back with `"plugins": {"service-proxy": "@flexnode/plugin-kube"}`.
 */
export const ciliumServiceProxy = defineService({
  capability: ServiceProxy,
  create: () => ({
    plan: () => ({ implementedBy: "Cilium's kube-proxy replacement (the cilium agent running on this node)", nodeLabels: {} }),
  }),
});
