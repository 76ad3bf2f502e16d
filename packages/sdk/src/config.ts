/**
 * The flexnode config file. The upstream Go tool's file (`/etc/aks-flex-node/config.json`) loads unchanged;
 * sections it does not know are flexnode extensions. Core validates the file against the JSON Schema it
 * publishes (`@flexnode/core/schema/config.schema.json`) before any plugin sees it.
 */
export interface FlexnodeConfig {
  azure: AzureConfig;
  agent?: AgentConfig;
  kubernetes?: KubernetesConfig;
  /** runc release (upstream field name `runc`). */
  runc?: ComponentConfig & { url?: string };
  containerd?: ContainerdConfig;
  cni?: CniConfig;
  node?: NodeConfig;
  paths?: PathsConfig;
  /** Where artifacts come from: a mirror base URL replaces the upstream release hosts. */
  artifacts?: ArtifactsConfig;
  proxy?: ProxyConfig;
  /** Capability → plugin package name, e.g. `{"cni": "@org/plugin-cilium"}`. */
  plugins?: Record<string, string>;
  /** Free-form settings of third-party plugins, keyed by plugin package name. */
  pluginConfig?: Record<string, unknown>;
}

/** Azure cloud names as the upstream tool spells them. */
export type AzureCloudName = 'AzurePublicCloud' | 'AzureChinaCloud' | 'AzureUSGovernment';

export interface AzureConfig {
  subscriptionId: string;
  tenantId: string;
  cloud?: AzureCloudName;
  servicePrincipal?: ServicePrincipalConfig;
  arc?: ArcConfig;
  targetCluster: TargetClusterConfig;
  /** Overrides of the cloud's endpoints (sovereign or private clouds, and tests). */
  endpoints?: { resourceManager?: string; authorityHost?: string };
}

export interface ServicePrincipalConfig {
  clientId: string;
  /** Upstream accepts it here; prefer clientSecretFile or the AZURE_CLIENT_SECRET environment variable. */
  clientSecret?: string;
  /** A file (mode 0600) holding the secret. */
  clientSecretFile?: string;
  tenantId?: string;
}

export interface ArcConfig {
  enabled?: boolean;
  machineName?: string;
  tags?: Record<string, string>;
  resourceGroup?: string;
  location?: string;
  autoRoleAssignment?: boolean;
  /** Role names or definition ids granted to the Arc identity on the cluster (see plugin-arc's README). */
  roles?: string[];
}

export interface TargetClusterConfig {
  resourceId: string;
  location?: string;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'warning' | 'error';

export interface AgentConfig {
  logLevel?: LogLevel;
  logDir?: string;
  /** Seconds between two health checks of `flexnode agent`. */
  intervalSeconds?: number;
  /**
   * Let the agent upgrade the node (`flexnode upgrade`'s path: drained, rolled back on failure) when the config's
   * `kubernetes.version` changes or the cluster moves past the version skew policy. Default false.
   */
  autoUpgrade?: boolean;
}

export interface KubernetesConfig {
  /**
   * How the kubelet authenticates to the API server: `arc-msi` (default) with the Arc machine identity's Entra token,
   * authorized by Azure RBAC (flexnode's custom role); `bootstrap-token`: TLS bootstrapping to a client certificate
   * for `system:node:<name>`, limited by the Node authorizer and NodeRestriction.
   */
  auth?: 'arc-msi' | 'bootstrap-token';
  version?: string;
  /** Upstream's URL template of the node tarball: Go's Sprintf(template, version, arch). */
  urlTemplate?: string;
  /** sha256 per binary (`kubelet`, `kubectl`, `kubeadm`, `kube-proxy`) or of the node tarball (`kubernetes-node`); wins over tables and published checksums. */
  sha256?: Partial<Record<'kubelet' | 'kubectl' | 'kubeadm' | 'kube-proxy' | 'kubernetes-node', string | Partial<Record<Arch, string>>>>;
  /**
   * What implements Services on the node: `aks` (AKS's own kube-proxy DaemonSet, by the node label it selects on),
   * `flexnode` (kube-proxy of the same release, run by flexnode), `none`; `auto` or absent: by the cluster's network
   * profile (plugin-kube's README has the table). Applies while plugin-kube provides `service-proxy`.
   */
  serviceProxy?: 'auto' | 'aks' | 'flexnode' | 'none';
  /** Upgrades in the cluster: how many nodes at once, and where their Leases live. */
  upgrade?: UpgradeConfig;
}

/** `kubernetes.upgrade`: the cluster-wide bound on concurrent upgrades (Leases `flexnode-upgrade-<i>`). */
export interface UpgradeConfig {
  /** At most this many nodes upgrade at once (default 1). */
  maxConcurrent?: number;
  /** The namespace of the upgrade Leases (default `kube-node-lease`). */
  leaseNamespace?: string;
}

/** A pinned component: version and, when it differs from the plugin's table, the sha256 per architecture. */
export interface ComponentConfig {
  version?: string;
  sha256?: string | Partial<Record<Arch, string>>;
}

export interface ContainerdConfig extends ComponentConfig {
  pauseImage?: string;
  metricsAddress?: string;
  /** `release` (upstream tarballs, default) or `apt` (the distribution's packages). */
  source?: 'release' | 'apt';
}

export interface CniConfig extends ComponentConfig {
  /** This node's pod CIDR (the default bridge network's range); for clusters that allocate none to the node. */
  podCIDR?: string;
  /** A range shared by edge nodes, split per node: each takes a free `/nodeMaskSize` of `cidr` (default /24). */
  podCIDRPool?: { cidr: string; nodeMaskSize?: number };
}

export interface NodeConfig {
  name?: string;
  maxPods?: number;
  labels?: Record<string, string>;
  taints?: string[];
  kubelet?: {
    kubeReserved?: Record<string, string>;
    evictionHard?: Record<string, string>;
    imageGCHighThreshold?: number;
    imageGCLowThreshold?: number;
  };
}

export interface PathsConfig {
  kubernetes?: {
    configDir?: string;
    certsDir?: string;
    manifestsDir?: string;
    volumePluginDir?: string;
    kubeletDir?: string;
  };
  cni?: { binDir?: string; confDir?: string; libDir?: string };
}

export interface ArtifactsConfig {
  /** Base URL of a mirror laid out as `<component>/v<version>/<file>`. */
  mirror?: string;
}

export interface ProxyConfig {
  http?: string;
  https?: string;
  noProxy?: string;
}

/** CPU architectures flexnode supports, in Go/Kubernetes spelling. */
export type Arch = 'amd64' | 'arm64';
