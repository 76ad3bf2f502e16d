import { defineService, ServiceProxy, Tokens } from '@flexnode/sdk';
import { proxyPlan } from '../network/service-proxy.js';

/**
 * plugin-kube's `service-proxy` service: the plan for a cluster (mode from `kubernetes.serviceProxy` or the network
 * profile; AKS's cluster label when AKS's kube-proxy serves the node). Pure: the kubelet asks it for node labels.
 */
export const serviceProxyService = defineService({
  capability: ServiceProxy,
  inject: { config: Tokens.Config },
  create: ({ config }) => ({ plan: (cluster) => proxyPlan(config, cluster) }),
});
