import type { FlexnodeConfig } from '@flexnode/sdk';
import type { NodeComponent } from './node-rules.js';

/**
 * Whether flexnode may run kube-proxy on this node, with the Arc identity's exec credential: plugin-kube provides
 * `service-proxy` (no other plugin took it over) and `kubernetes.serviceProxy` is `flexnode`, or `auto`/unset. `auto`
 * follows the cluster's network profile (Azure CNI, Cilium or an unknown plugin: flexnode's kube-proxy; kubenet or
 * none: AKS's), which plugin-kube reads only after the roles are granted, and which can change under a joined node:
 * the role covers kube-proxy whenever the mode may resolve to it. What that adds to the kubelet's rules is reads
 * (endpointslices; servicecidrs from 1.33) and events.k8s.io events; `aks` or `none` leaves them out.
 */
export function mayRunKubeProxy(config: FlexnodeConfig): boolean {
  const provider = config.plugins?.['service-proxy'];
  if (provider !== undefined && provider !== '@flexnode/plugin-kube') return false;
  const mode = config.kubernetes?.serviceProxy ?? 'auto';
  return mode === 'auto' || mode === 'flexnode';
}

/**
 * The node's components that authenticate with the Arc identity, and so need their rules in flexnode's role: the
 * kubelet in `arc-msi` mode (in `bootstrap-token` mode it has its own certificate for system:node:<name>), and
 * kube-proxy whenever flexnode may run it (in both modes: kube-proxy keeps the Arc identity as its own credential,
 * so the kubelet's certificate never gains system:node-proxier's cluster-wide reads). Empty: the identity needs no
 * role in the cluster.
 */
export function nodeComponents(config: FlexnodeConfig): NodeComponent[] {
  return [...(config.kubernetes?.auth === 'bootstrap-token' ? [] : ['kubelet' as const]), ...(mayRunKubeProxy(config) ? ['kube-proxy' as const] : [])];
}
