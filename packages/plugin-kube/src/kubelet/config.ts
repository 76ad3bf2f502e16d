import { ConfigError, type ContainerRuntimeService, type FlexnodeConfig } from '@flexnode/sdk';
import type { ClusterFacts } from '../cluster/cluster.js';
import type { KubePaths } from '../paths.js';
import type { KubeSettings } from '../settings.js';

export const CLUSTER_DOMAIN = 'cluster.local';
/** systemd-resolved's real upstream servers: its stub (127.0.0.53) in /etc/resolv.conf loops inside pods. */
export const RESOLVED_RESOLV_CONF = '/run/systemd/resolve/resolv.conf';

/** The kubelet's own hard-eviction defaults, written out so the file says what applies. */
export const DEFAULT_EVICTION_HARD: Readonly<Record<string, string>> = {
  'memory.available': '100Mi',
  'nodefs.available': '10%',
  'nodefs.inodesFree': '5%',
  'imagefs.available': '15%',
};

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** `key[=value]:Effect` (node.taints) → a core/v1 Taint. */
export function parseTaint(spec: string, index: number): Taint {
  const m = /^([^=:\s]+)(?:=([^:\s]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(spec);
  if (!m) {
    throw new ConfigError(`node.taints[${index}] is not a taint: "${spec}"`, [{ path: `node.taints[${index}]`, message: 'expected key[=value]:NoSchedule|PreferNoSchedule|NoExecute' }]);
  }
  return { key: m[1]!, ...(m[2] !== undefined ? { value: m[2] } : {}), effect: m[3] as Taint['effect'] };
}

export interface KubeletConfigInput {
  config: FlexnodeConfig;
  settings: KubeSettings;
  cluster: Pick<ClusterFacts, 'name' | 'dnsServiceIP'>;
  paths: KubePaths;
  /** systemd-resolved manages /etc/resolv.conf (RESOLVED_RESOLV_CONF exists). */
  resolved: boolean;
  /** The chosen container runtime's CRI endpoint and cgroup driver. */
  runtime: Pick<ContainerRuntimeService, 'criEndpoint' | 'cgroupDriver'>;
}

/**
 * The KubeletConfiguration (kubelet.config.k8s.io/v1beta1) as a plain object. Field names and types follow the
 * v1beta1 Go types (checked in a unit test against ./v1beta1-schema.ts).
 *
 * Choices: the kubelet's server takes only authenticated, authorised requests (anonymous off, webhook token review,
 * the cluster CA for client certificates: `kubectl logs/exec` work, nothing else gets in); the read-only port is
 * closed; the container runtime's CRI endpoint and cgroup driver from its `container-runtime` service; cluster DNS from the cluster's own
 * networkProfile.dnsServiceIP (upstream assumed 10.0.0.10); protectKernelDefaults with the sysctls kube.sysctl sets.
 * rotateCertificates is off: the kubelet authenticates with tokens from the exec credential plugin, which renews
 * them itself; there is no client certificate to rotate. serverTLSBootstrap is off unless configured: it needs a CSR
 * approver in the cluster, else the kubelet never gets a serving certificate.
 */
export function kubeletConfiguration(input: KubeletConfigInput): Record<string, unknown> {
  const { config, settings, cluster, paths } = input;
  if (!cluster.dnsServiceIP) {
    throw new ConfigError(`the cluster ${cluster.name} reports no networkProfile.dnsServiceIP: the kubelet would not know the cluster DNS`, [], 'check the cluster\'s network profile (`az aks show --query networkProfile`)');
  }
  const kubelet = config.node?.kubelet ?? {};
  const taints = (config.node?.taints ?? []).map(parseTaint);
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // The runtime's driver: a kubelet and runtime that disagree on it leave pods failing to start.
    cgroupDriver: input.runtime.cgroupDriver,
    containerRuntimeEndpoint: input.runtime.criEndpoint,
    clusterDNS: [cluster.dnsServiceIP],
    clusterDomain: CLUSTER_DOMAIN,
    ...(input.resolved ? { resolvConf: RESOLVED_RESOLV_CONF } : {}),
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true, cacheTTL: '2m0s' },
      x509: { clientCAFile: paths.caCert },
    },
    authorization: {
      mode: 'Webhook',
      webhook: { cacheAuthorizedTTL: '5m0s', cacheUnauthorizedTTL: '30s' },
    },
    readOnlyPort: 0,
    rotateCertificates: false,
    serverTLSBootstrap: settings.serverTLSBootstrap,
    protectKernelDefaults: settings.protectKernelDefaults,
    failSwapOn: true,
    maxPods: config.node?.maxPods ?? 110,
    evictionHard: { ...(kubelet.evictionHard ?? DEFAULT_EVICTION_HARD) },
    ...(kubelet.kubeReserved ? { kubeReserved: { ...kubelet.kubeReserved } } : {}),
    ...(kubelet.imageGCHighThreshold !== undefined ? { imageGCHighThresholdPercent: kubelet.imageGCHighThreshold } : {}),
    ...(kubelet.imageGCLowThreshold !== undefined ? { imageGCLowThresholdPercent: kubelet.imageGCLowThreshold } : {}),
    containerLogMaxSize: '50Mi',
    containerLogMaxFiles: 5,
    volumePluginDir: paths.volumePluginDir,
    ...(taints.length ? { registerWithTaints: taints } : {}),
  };
}

export async function renderKubeletConfig(input: KubeletConfigInput): Promise<string> {
  const { stringify } = await import('yaml');
  return `# Written by flexnode (step kube.kubelet).\n${stringify(kubeletConfiguration(input))}`;
}

/** Node labels the kubelet may set on itself: like the real kubelet, refuse kubernetes.io/k8s.io ones it would reject. */
export function nodeLabels(config: FlexnodeConfig): Record<string, string> {
  // The cloud controller deletes nodes it does not know unless they say they are not managed by AKS (upstream's label).
  const labels: Record<string, string> = { 'kubernetes.azure.com/managed': 'false', ...(config.node?.labels ?? {}) };
  const allowed = new Set(['kubernetes.io/arch', 'kubernetes.io/hostname', 'kubernetes.io/os', 'node.kubernetes.io/instance-type',
    'topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'beta.kubernetes.io/arch', 'beta.kubernetes.io/os',
    'beta.kubernetes.io/instance-type', 'failure-domain.beta.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/zone']);
  for (const key of Object.keys(labels)) {
    const ns = key.includes('/') ? key.split('/')[0]! : '';
    if (/(^|\.)(kubernetes\.io|k8s\.io)$/.test(ns) && !/(^|\.)(kubelet|node)\.kubernetes\.io$/.test(ns) && !allowed.has(key)) {
      throw new ConfigError(`node.labels["${key}"]: the kubelet may not set labels in the ${ns} namespace on its own node`, [
        { path: `node.labels["${key}"]`, message: 'use a prefix of your own, or node.kubernetes.io/ / kubelet.kubernetes.io/' },
      ]);
    }
  }
  return labels;
}
