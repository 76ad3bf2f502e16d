import { ConfigError, type ClusterNetwork, type FlexnodeConfig, type ServiceProxyPlan } from '@flexnode/sdk';

/** The node label AKS's own DaemonSets select on (its value is the node resource group; aks-docs use-labels.md). */
export const AKS_CLUSTER_LABEL = 'kubernetes.azure.com/cluster';

/** Who implements Services on the node. */
export type ProxyMode = 'aks' | 'flexnode' | 'none';

/** The mode and why it was chosen (for logs, status and the README's table). */
export interface ProxyDecision {
  mode: ProxyMode;
  why: string;
}

/**
 * The default mode for a cluster's network profile (the table in the README, with its sources):
 *
 * - Cilium dataplane (Azure CNI Powered by Cilium): AKS runs no kube-proxy at all, Cilium replaces it
 *   (aks-docs azure-cni-powered-by-cilium.md, "Does Azure CNI Powered by Cilium use kube-proxy?"), and AKS's Cilium
 *   does not run on flex nodes (flex-nodes-networking-concepts.md): flexnode runs kube-proxy.
 * - Azure CNI (overlay or pods in the VNet): AKS's kube-proxy would schedule, but so would azure-cns and the Azure
 *   CNI installer, which select the same label (Azure/azure-container-networking cns/azure-cns.yaml) and do not run
 *   on flex nodes: flexnode runs kube-proxy and the label stays off.
 * - kubenet: the label is how AKS's kube-proxy reaches a flex node (Azure/AKSFlexNode's labs: "That label is only
 *   needed in the kubenet flow to make AKS-managed kube-proxy schedule on Flex Nodes").
 * - none (bring your own CNI): AKS still deploys its kube-proxy DaemonSet (it can be switched off for a BYO CNI:
 *   aks-docs configure-kube-proxy.md) and no AKS network DaemonSet: AKS's kube-proxy, by the label.
 * - anything else (not reported, a plugin flexnode does not know): flexnode runs kube-proxy, so that no AKS
 *   DaemonSet lands on a node it was not built for.
 */
export function defaultProxyMode(cluster: ClusterNetwork): ProxyDecision {
  if (cluster.networkDataplane === 'cilium')
    return { mode: 'flexnode', why: 'the cluster uses the Cilium dataplane: AKS runs no kube-proxy, and its Cilium does not run on flex nodes' };
  switch (cluster.networkPlugin) {
    case 'azure':
      return {
        mode: 'flexnode',
        why: `Azure CNI${cluster.networkPluginMode === 'overlay' ? ' Overlay' : ''}: the label AKS's kube-proxy needs would also bring Azure CNI's DaemonSets, which do not run on flex nodes`,
      };
    case 'kubenet':
      return { mode: 'aks', why: `kubenet: AKS's kube-proxy schedules on nodes labelled ${AKS_CLUSTER_LABEL}` };
    case 'none':
      return {
        mode: 'aks',
        why: `bring-your-own CNI (network plugin none): AKS deploys its kube-proxy, which schedules on nodes labelled ${AKS_CLUSTER_LABEL}`,
      };
    default:
      return {
        mode: 'flexnode',
        why: `the cluster's network plugin is ${cluster.networkPlugin ? `"${cluster.networkPlugin}", which flexnode does not know` : 'not reported'}: flexnode runs kube-proxy itself`,
      };
  }
}

/** Why AKS's kube-proxy cannot serve this node, or undefined when it can. */
function aksProxyUnavailable(cluster: ClusterNetwork): string | undefined {
  if (cluster.networkDataplane === 'cilium')
    return "a cluster with the Cilium dataplane runs no kube-proxy (Cilium replaces it, and AKS's Cilium does not run on flex nodes)";
  if (cluster.networkPlugin === 'azure')
    return `the label AKS's kube-proxy selects on (${AKS_CLUSTER_LABEL}) would also bring Azure CNI's DaemonSets (azure-cns, the CNI installer), which do not run on flex nodes`;
  if (!cluster.nodeResourceGroup) return `the cluster reports no node resource group, the value of ${AKS_CLUSTER_LABEL}`;
  return undefined;
}

/** `kubernetes.serviceProxy`, else the default for the cluster; an `aks` the cluster cannot honour is a ConfigError (exit 2). */
export function decideProxyMode(config: FlexnodeConfig, cluster: ClusterNetwork): ProxyDecision {
  const chosen = config.kubernetes?.serviceProxy;
  if (chosen === undefined || chosen === 'auto') return defaultProxyMode(cluster);
  if (chosen === 'aks') {
    const why = aksProxyUnavailable(cluster);
    if (why) {
      throw new ConfigError(
        `kubernetes.serviceProxy is "aks", but ${why}`,
        [{ path: 'kubernetes.serviceProxy', message: "AKS's kube-proxy cannot serve this node" }],
        'set kubernetes.serviceProxy to "flexnode" (flexnode runs kube-proxy of the same release), or "auto"',
      );
    }
    return { mode: 'aks', why: 'kubernetes.serviceProxy is "aks"' };
  }
  return { mode: chosen, why: `kubernetes.serviceProxy is "${chosen}"` };
}

/**
 * Whether flexnode runs kube-proxy itself on this cluster: plugin-kube provides `service-proxy` (no other plugin
 * took it over) and the mode, resolved for the cluster, is `flexnode`.
 */
export function runsKubeProxy(config: FlexnodeConfig, cluster: ClusterNetwork): boolean {
  const provider = config.plugins?.['service-proxy'];
  return (provider === undefined || provider === '@flexnode/plugin-kube') && decideProxyMode(config, cluster).mode === 'flexnode';
}

/** The plan of plugin-kube's service-proxy provider for a cluster. */
export function proxyPlan(config: FlexnodeConfig, cluster: ClusterNetwork): ServiceProxyPlan & { mode: ProxyMode } {
  const { mode } = decideProxyMode(config, cluster);
  switch (mode) {
    case 'aks':
      return {
        mode,
        implementedBy: `AKS's kube-proxy DaemonSet (the node is labelled ${AKS_CLUSTER_LABEL}=${cluster.nodeResourceGroup})`,
        nodeLabels: { [AKS_CLUSTER_LABEL]: cluster.nodeResourceGroup! },
      };
    case 'flexnode':
      return { mode, implementedBy: 'kube-proxy run by flexnode (kube-proxy.service)', nodeLabels: {} };
    case 'none':
      return {
        mode,
        implementedBy: 'nothing flexnode installs (kubernetes.serviceProxy is "none": a kube-proxy replacement in the cluster must serve this node)',
        nodeLabels: {},
      };
  }
}
