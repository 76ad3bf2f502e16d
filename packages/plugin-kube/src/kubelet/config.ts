import { ConfigError, type ContainerRuntimeService, type FlexnodeConfig } from '@flexnode/sdk';
import type { ClusterFacts } from '../cluster/cluster.js';
import { maxPodsOf } from '../network/pod-range.js';
import { atLeast, type KubeVersion } from '../version.js';
import type { KubePaths } from '../paths.js';
import type { KubeSettings } from '../settings.js';
import { toYaml } from '../yaml-text.js';

export const CLUSTER_DOMAIN = 'cluster.local';
/** systemd-resolved's real upstream servers: its stub (127.0.0.53) in /etc/resolv.conf loops inside pods. */
export const RESOLVED_RESOLV_CONF = '/run/systemd/resolve/resolv.conf';

/** The hard-eviction thresholds of AKS's nodes (AKS docs, node-resource-reservations; AgentBaker e2e/node_config.go). */
export function aksEvictionHard(version: KubeVersion): Record<string, string> {
  // AKS 1.29 and later keep 100Mi free for the kubelet; before, 750Mi (the docs' "prior to 1.28" rule).
  return { 'memory.available': atLeast(version, 1, 29) ? '100Mi' : '750Mi', 'nodefs.available': '10%', 'nodefs.inodesFree': '5%' };
}

/** The machine's size, which AKS's kube-reserved follows. */
export interface MachineSize {
  cpus: number;
  memoryBytes: number;
}

/** AKS's kube-reserved CPU by the host's cores (AKS docs, node-resource-reservations: 1, 2, 4, 8, 16, 32, 64 cores). */
const KUBE_RESERVED_CPU: readonly (readonly [cores: number, millicores: number])[] = [
  [1, 60],
  [2, 100],
  [4, 140],
  [8, 180],
  [16, 260],
  [32, 420],
  [64, 740],
];

/**
 * kube-reserved as AKS computes it for 1.29 and later (AKS docs, node-resource-reservations): CPU from the table
 * (a machine between two rows gets the lower one), memory the lesser of 20 MiB per pod plus 50 MiB and a quarter
 * of the machine's memory.
 */
export function aksKubeReserved(machine: MachineSize, maxPods: number): Record<string, string> {
  const cpu = [...KUBE_RESERVED_CPU].reverse().find(([cores]) => machine.cpus >= cores)?.[1] ?? KUBE_RESERVED_CPU[0]![1];
  const memoryMi = Math.min(20 * maxPods + 50, Math.floor(machine.memoryBytes / 2 ** 20 / 4));
  return { cpu: `${cpu}m`, memory: `${memoryMi}Mi` };
}

/**
 * The TLS cipher suites AKS's kubelets serve with (AgentBaker e2e/node_config.go, `--tls-cipher-suites`) less
 * TLS_RSA_WITH_AES_{128,256}_GCM_*: without ECDHE they have no forward secrecy, and every client of the kubelet
 * (the API server, konnectivity, metrics-server: Go's crypto/tls) offers the ECDHE ones.
 */
export const TLS_CIPHER_SUITES: readonly string[] = [
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
];

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** `key[=value]:Effect` (node.taints) → a core/v1 Taint. */
export function parseTaint(spec: string, index: number): Taint {
  const m = /^([^=:\s]+)(?:=([^:\s]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(spec);
  if (!m) {
    throw new ConfigError(`node.taints[${index}] is not a taint: "${spec}"`, [
      { path: `node.taints[${index}]`, message: 'expected key[=value]:NoSchedule|PreferNoSchedule|NoExecute' },
    ]);
  }
  return { key: m[1]!, ...(m[2] !== undefined ? { value: m[2] } : {}), effect: m[3] as Taint['effect'] };
}

/**
 * The config's taints, parsed; two with the same key and effect are refused, as the API server refuses them on a
 * Node (validateNodeTaints: "taints must be unique by key and effect pair").
 */
export function nodeTaints(config: FlexnodeConfig): Taint[] {
  const taints = (config.node?.taints ?? []).map(parseTaint);
  taints.forEach((t, i) => {
    const first = taints.findIndex((o) => o.key === t.key && o.effect === t.effect);
    if (first !== i) {
      throw new ConfigError(`node.taints[${i}] repeats the key and effect of node.taints[${first}] (${t.key}:${t.effect})`, [
        { path: `node.taints[${i}]`, message: 'a taint per key and effect' },
      ]);
    }
  });
  return taints;
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
  /** The kubelet's version: what differs by version follows it. */
  version: KubeVersion;
  /** The machine's size, for kube-reserved. */
  machine: MachineSize;
  /** bootstrap-token mode: the kubelet has a client certificate to rotate. */
  tlsBootstrap?: boolean;
}

/**
 * The KubeletConfiguration (kubelet.config.k8s.io/v1beta1) as a plain object, following AKS's nodes (the list in
 * ./aks-golden.test.ts, with sources; the deliberate differences are in the README). Field names and types follow
 * the v1beta1 Go types (checked in a unit test against ./v1beta1-schema.ts).
 *
 * The kubelet's server takes only authenticated, authorised requests (anonymous off, webhook token review, the
 * cluster CA for client certificates: `kubectl logs/exec` work, nothing else gets in), with AKS's cipher suites;
 * the read-only port is closed; the container runtime's CRI endpoint and cgroup driver come from its
 * `container-runtime` service; cluster DNS from the cluster's own networkProfile.dnsServiceIP (upstream assumed
 * 10.0.0.10); protectKernelDefaults with the sysctls kube.sysctl sets; eviction, image GC, kube-reserved (by the
 * machine's size), event QPS, status frequency and timeouts as AKS sets them; `node.kubelet.*` overrides.
 * rotateCertificates is on in bootstrap-token mode (the kubelet renews its own client certificate before it
 * expires, as AKS's nodes do) and off in arc-msi mode: there the kubelet authenticates with tokens from the exec
 * credential plugin, which renews them itself; there is no client certificate to rotate. serverTLSBootstrap is off unless configured: AKS's
 * approver signs serving certificates of its own nodes (system:node:<name>), and this node's kubelet authenticates
 * as its managed identity, so its CSR would never be approved and the kubelet would serve no TLS at all.
 */
export function kubeletConfiguration(input: KubeletConfigInput): Record<string, unknown> {
  const { config, settings, cluster, paths } = input;
  if (!cluster.dnsServiceIP) {
    throw new ConfigError(
      `the cluster ${cluster.name} reports no networkProfile.dnsServiceIP: the kubelet would not know the cluster DNS`,
      [],
      "check the cluster's network profile (`az aks show --query networkProfile`)",
    );
  }
  const kubelet = config.node?.kubelet ?? {};
  const taints = nodeTaints(config);
  const maxPods = maxPodsOf(config);
  const gcHigh = kubelet.imageGCHighThreshold ?? 85;
  const gcLow = kubelet.imageGCLowThreshold ?? 80;
  if (gcLow >= gcHigh) {
    // The kubelet refuses to start with these (imageGCLowThresholdPercent must be less than the high one).
    throw new ConfigError(`node.kubelet.imageGCLowThreshold (${gcLow}) must be below imageGCHighThreshold (${gcHigh})`, [
      { path: 'node.kubelet.imageGCLowThreshold', message: `less than ${gcHigh}` },
    ]);
  }
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // The runtime's driver: a kubelet and runtime that disagree on it leave pods failing to start.
    cgroupDriver: input.runtime.cgroupDriver,
    containerRuntimeEndpoint: input.runtime.criEndpoint,
    clusterDNS: [cluster.dnsServiceIP],
    clusterDomain: CLUSTER_DOMAIN,
    ...(input.resolved ? { resolvConf: RESOLVED_RESOLV_CONF } : {}),
    address: '0.0.0.0',
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
    tlsCipherSuites: [...TLS_CIPHER_SUITES],
    rotateCertificates: input.tlsBootstrap === true,
    serverTLSBootstrap: settings.serverTLSBootstrap,
    protectKernelDefaults: settings.protectKernelDefaults,
    failSwapOn: true,
    cgroupsPerQOS: true,
    maxPods,
    podPidsLimit: -1,
    eventRecordQPS: 0,
    nodeStatusUpdateFrequency: '10s',
    streamingConnectionIdleTimeout: '4h0m0s',
    runtimeRequestTimeout: '15m0s',
    evictionHard: { ...(kubelet.evictionHard ?? aksEvictionHard(input.version)) },
    kubeReserved: { ...(kubelet.kubeReserved ?? aksKubeReserved(input.machine, maxPods)) },
    enforceNodeAllocatable: ['pods'],
    imageGCHighThresholdPercent: gcHigh,
    imageGCLowThresholdPercent: gcLow,
    volumePluginDir: paths.volumePluginDir,
    ...(taints.length ? { registerWithTaints: taints } : {}),
  };
}

export async function renderKubeletConfig(input: KubeletConfigInput): Promise<string> {
  return `# Written by flexnode (step kube.kubelet).\n${await toYaml(kubeletConfiguration(input))}`;
}

/** Node labels the kubelet may set on itself: like the real kubelet, refuse kubernetes.io/k8s.io ones it would reject. */
export function nodeLabels(config: FlexnodeConfig): Record<string, string> {
  // The cloud controller deletes nodes it does not know unless they say they are not managed by AKS (upstream's label).
  const labels: Record<string, string> = { 'kubernetes.azure.com/managed': 'false', ...(config.node?.labels ?? {}) };
  const allowed = new Set([
    'kubernetes.io/arch',
    'kubernetes.io/hostname',
    'kubernetes.io/os',
    'node.kubernetes.io/instance-type',
    'topology.kubernetes.io/region',
    'topology.kubernetes.io/zone',
    'beta.kubernetes.io/arch',
    'beta.kubernetes.io/os',
    'beta.kubernetes.io/instance-type',
    'failure-domain.beta.kubernetes.io/region',
    'failure-domain.beta.kubernetes.io/zone',
  ]);
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
