import { ConfigError, type Arch, type ClusterNetwork, type FlexnodeConfig, type ServiceProxyPlan } from '@flexnode/sdk';
import type { ClusterFacts } from '../cluster/cluster.js';
import { nodeLabels, parseTaint, type Taint } from '../kubelet/config.js';
import type { KubeSettings } from '../settings.js';
import type { ClusterRanges } from './pod-range.js';
import { AKS_CLUSTER_LABEL } from './service-proxy.js';

/** Keeps the node out of the cluster's external load balancers (the service controller and CPA test its presence). */
export const EXCLUDE_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

/** The cluster's network as the service proxy provider is told it. */
export const clusterNetwork = (facts: ClusterFacts): ClusterNetwork => ({
  ...(facts.networkPlugin ? { networkPlugin: facts.networkPlugin } : {}),
  ...(facts.networkPluginMode ? { networkPluginMode: facts.networkPluginMode } : {}),
  ...(facts.networkDataplane ? { networkDataplane: facts.networkDataplane } : {}),
  ...(facts.nodeResourceGroup ? { nodeResourceGroup: facts.nodeResourceGroup } : {}),
});

/** The cluster's address plan as the pod range checks read it. */
export const clusterRanges = (facts: ClusterFacts): ClusterRanges => ({
  ...(facts.networkPlugin ? { networkPlugin: facts.networkPlugin } : {}),
  ...(facts.networkPluginMode ? { networkPluginMode: facts.networkPluginMode } : {}),
  podCidrs: facts.podCidrs ?? [],
  serviceCidrs: facts.serviceCidrs?.length ? facts.serviceCidrs : facts.serviceCidr ? [facts.serviceCidr] : [],
});

/**
 * The labels the node registers with, whoever creates the Node (the kubelet's --node-labels, or flexnode before the
 * kubelet starts): `kubernetes.azure.com/managed=false` and `node.labels` (the kubelet's rules), the load-balancer
 * exclusion unless switched off, and what the service proxy needs (AKS's cluster label for its kube-proxy). A
 * `node.labels` entry for AKS's cluster label while the service proxy does not want it is refused: it would bring
 * AKS's DaemonSets to the node.
 */
export function registrationLabels(
  config: FlexnodeConfig,
  settings: Pick<KubeSettings, 'excludeFromExternalLoadBalancers'>,
  proxy: ServiceProxyPlan,
): Record<string, string> {
  const labels = nodeLabels(config);
  if (config.node?.labels?.[AKS_CLUSTER_LABEL] !== undefined && proxy.nodeLabels[AKS_CLUSTER_LABEL] === undefined) {
    throw new ConfigError(
      `node.labels["${AKS_CLUSTER_LABEL}"] makes AKS's DaemonSets schedule on this node, but its Services are served by ${proxy.implementedBy}`,
      [{ path: `node.labels["${AKS_CLUSTER_LABEL}"]`, message: 'set by the service proxy mode, not by hand' }],
      'remove it, and set kubernetes.serviceProxy to "aks" where AKS\'s kube-proxy should serve this node',
    );
  }
  return {
    ...labels,
    ...(settings.excludeFromExternalLoadBalancers ? { [EXCLUDE_LB_LABEL]: 'true' } : {}),
    ...proxy.nodeLabels,
  };
}

/** The taints the node registers with (`node.taints`, as the kubelet's registerWithTaints). */
export const registrationTaints = (config: FlexnodeConfig): Taint[] => (config.node?.taints ?? []).map(parseTaint);

/**
 * The Node object flexnode registers before the kubelet starts (when the pod range comes from the cluster or the
 * pool): what the kubelet's initialNode() would create (its default labels, --node-labels, registerWithTaints) plus
 * the pod range when flexnode chose it. The kubelet adopts an existing Node (kubelet_node_status.go
 * tryRegisterWithAPIServer: on AlreadyExists it reconciles its default labels and goes on), but sets --node-labels
 * and taints only on a Node it creates, so they must be here.
 */
export function nodeObject(
  name: string,
  arch: Arch,
  labels: Record<string, string>,
  taints: readonly Taint[],
  podCIDRs: readonly string[],
): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': arch,
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': arch,
        ...labels,
      },
    },
    spec: {
      ...(taints.length ? { taints } : {}),
      ...(podCIDRs.length ? { podCIDR: podCIDRs[0], podCIDRs: [...podCIDRs] } : {}),
    },
  };
}
