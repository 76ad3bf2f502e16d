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
}

/** The pod network (plugin-cni's bridge by default; Cilium and others take it over). */
export const Cni = defineCapability<CniService>('cni');

/** The operator's Azure access for bootstrap-time ARM calls (plugin-arc). */
export const AzureCredential = defineCapability<AzureContext>('azure-credential');

/** The node's own Azure identity (the Arc machine's managed identity; plugin-arc). */
export const ArcIdentity = defineCapability<NodeIdentity>('arc-identity');

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
