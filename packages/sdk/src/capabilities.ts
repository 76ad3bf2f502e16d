import type { FlexnodeConfig } from './config.js';
import type { AzureContext, NodeIdentity } from './azure.js';
import { defineCapability } from './capability.js';

/**
 * The capabilities of a node and the contract of each provider's service. A plugin that takes over a capability
 * (`"plugins": {"container-runtime": "@org/plugin-crio"}`) provides these services, and every consumer (the
 * kubelet, containerd's CNI settings) reads them from the service, never from constants.
 */

/** What a container runtime tells the kubelet. */
export interface ContainerRuntimeService {
  /** The CRI endpoint the kubelet connects to, e.g. `unix:///run/containerd/containerd.sock`. */
  readonly criEndpoint: string;
  /** The systemd unit the kubelet is ordered after and wants, e.g. `containerd.service`. */
  readonly unit: string;
  /** The cgroup driver the runtime uses: the kubelet must use the same one. */
  readonly cgroupDriver: 'systemd' | 'cgroupfs';
  /** The sandbox (pause) image the runtime runs pods with, for kubelets that are told it too; optional. */
  readonly sandboxImage?: string;
}

/** The container runtime (runc + containerd by default). */
export const ContainerRuntime = defineCapability<ContainerRuntimeService>('container-runtime');

/** Where the pod network's CNI plugins and configuration live, for the runtime that calls them. */
export interface CniService {
  /** Directory of the CNI plugin executables, e.g. `/opt/cni/bin`. */
  readonly binDir: string;
  /** Directory of the CNI network configuration, e.g. `/etc/cni/net.d`. */
  readonly confDir: string;
  /**
   * The network gives pods addresses from the node's own pod range ({@link PodCidr}: the Node's `spec.podCIDRs`,
   * `cni.podCIDR` or a share of `cni.podCIDRPool`), so that range must be decided, and checked against the cluster's,
   * before the node joins. False or absent for networks with their own address management (Cilium's cluster pool).
   */
  readonly usesNodePodCIDR?: boolean;
}

/** The pod network (plugin-cni's bridge by default; Cilium and others take it over). */
export const Cni = defineCapability<CniService>('cni');

/** The operator's Azure access for bootstrap-time ARM calls (plugin-arc). */
export const AzureCredential = defineCapability<AzureContext>('azure-credential');

/** The node's own Azure identity (the Arc machine's managed identity; plugin-arc). */
export const ArcIdentity = defineCapability<NodeIdentity>('arc-identity');

/** This node's pod address range, for a network that gives pods addresses from it (plugin-kube provides it). */
export interface PodCidrService {
  /**
   * The node's pod CIDRs, one per IP family, the primary first: `cni.podCIDR` when it is set, else the Node's
   * `spec.podCIDRs` (allocated by the cluster, or taken from `cni.podCIDRPool` and recorded on the Node before
   * the kubelet starts). Rejects with a FlexnodeError when the range is not known yet (the Node is not registered)
   * or cannot be read (the API server does not answer).
   */
  podCIDRs(): Promise<readonly string[]>;
}

/** Who decides the node's pod range (plugin-kube: from the cluster and the config, checked against both). */
export const PodCidr = defineCapability<PodCidrService>('pod-cidr');

/**
 * The codes of {@link PodCidrService.podCIDRs}'s errors: `pending`, the range is not known yet (the Node is not
 * registered or has none); `unreadable`, it could not be read (a consumer may go on with what it recorded).
 */
export const PodCidrErrors = { pending: 'POD_CIDR_PENDING', unreadable: 'POD_CIDR_UNREADABLE' } as const;

/** What a service proxy provider is told about the target cluster (its `networkProfile` and node resource group). */
export interface ClusterNetwork {
  /** `azure`, `kubenet`, `none` (bring your own CNI); absent when not known. */
  readonly networkPlugin?: string;
  /** `overlay` for Azure CNI Overlay. */
  readonly networkPluginMode?: string;
  /** `azure` or `cilium` (Azure CNI Powered by Cilium). */
  readonly networkDataplane?: string;
  /** The resource group of the cluster's own resources (`MC_...`): the value of `kubernetes.azure.com/cluster`. */
  readonly nodeResourceGroup?: string;
}

/** How Kubernetes Services (ClusterIPs, NodePorts) reach pods from this node, for one cluster. */
export interface ServiceProxyPlan {
  /** Who implements Services on this node, for logs and status: `AKS's kube-proxy DaemonSet`, `Cilium`. */
  readonly implementedBy: string;
  /** Labels the node registers with so that it happens (may be empty), e.g. the one AKS's DaemonSets select on. */
  readonly nodeLabels: Readonly<Record<string, string>>;
}

/** kube-proxy or a replacement: what the node needs for Services (plugin-kube by default; Cilium replaces it). */
export interface ServiceProxyService {
  /** The plan for this cluster: pure, no I/O (the kubelet asks it for its node labels). */
  plan(cluster: ClusterNetwork): ServiceProxyPlan;
}

/** The service proxy of the node (plugin-kube: AKS's kube-proxy or one it runs; a kube-proxy replacement takes it over). */
export const ServiceProxy = defineCapability<ServiceProxyService>('service-proxy');
/** What `flexnode upgrade` would move the node to, as the kubelet's provider sees it. */
export interface UpgradePlan {
  /** The Kubernetes version the node runs now (its installed kubelet's). */
  readonly from: string;
  /** The version to move to; equal to `from` when there is nothing to upgrade. */
  readonly to: string;
  /** Where `to` comes from: `requested` (`--to`), `pinned` (the config's `kubernetes.version`), `cluster` (the API server's version). */
  readonly source: 'requested' | 'pinned' | 'cluster';
  /** The API server's version the plan was checked against (Kubernetes' version skew policy). */
  readonly apiServer: string;
  /** The installed kubelet is outside the skew policy for the API server: an upgrade is due. */
  readonly outsideSkew: boolean;
  /** Merged into the config for the run that installs `to` (for example `{ kubernetes: { version } }`). */
  readonly config: Partial<FlexnodeConfig>;
}

/**
 * Taking the node out of service and back, for `flexnode upgrade` and the agent's automatic upgrades; offered by
 * the kubelet's provider (plugin-kube). Core brackets the run that swaps the node's components with these calls
 * and rolls the components back when the node does not come back.
 */
export interface NodeMaintenanceService {
  /**
   * The versions of an upgrade: `requested`, else the config's pin, else the cluster's. A target the cluster does
   * not support (version skew policy) is a ConfigError naming the rule and both versions: exit 2, nothing changed.
   */
  upgradePlan(requested?: string): Promise<UpgradePlan>;
  /**
   * Out of service: a slot among the cluster's concurrent upgrades, then cordon and drain. When it fails, the node
   * is back in service and the error names what blocked (the slot's holders, the pods a drain could not evict).
   */
  begin(): Promise<void>;
  /** Wait until the node serves again with kubelet `version`; the error says what was seen instead. */
  waitReady(version: string): Promise<void>;
  /** Back in service: uncordoned (when `begin` cordoned it), the slot released. Idempotent; works after a crash. */
  end(): Promise<void>;
}

/** Node maintenance (plugin-kube's kubelet). */
export const NodeMaintenance = defineCapability<NodeMaintenanceService>('node-maintenance');
