// Flags and the KubeletConfiguration file of the kubelet STAND-IN: the real kubelet's flag set (unknown flags fail
// as pflag fails; flags that moved to the config file print the deprecation warning), --node-labels validation
// (cmd/kubelet/app/options: kubernetes.io/k8s.io labels must be in the allowed set or prefixes), the config file's
// kind/apiVersion check and the settings the stand-in acts on.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { duration, Fatal, kubeletVersion, log, type Dict } from './common.js';
import { parseYaml } from './yaml.js';

const VALUE_FLAGS = new Set([
  'config',
  'kubeconfig',
  'bootstrap-kubeconfig',
  'container-runtime-endpoint',
  'hostname-override',
  'node-ip',
  'node-labels',
  'register-with-taints',
  'v',
  'cert-dir',
  'root-dir',
  'authorization-mode',
  'cgroup-driver',
  'eviction-hard',
  'kube-reserved',
  'system-reserved',
  'max-pods',
  'read-only-port',
  'client-ca-file',
  'cluster-dns',
  'cluster-domain',
  'pod-infra-container-image',
  'image-credential-provider-config',
  'image-credential-provider-bin-dir',
  'runtime-request-timeout',
  'feature-gates',
  'logging-format',
  'pod-manifest-path',
  'volume-plugin-dir',
  'provider-id',
  'cloud-provider',
  'tls-cert-file',
  'tls-private-key-file',
  'node-status-update-frequency',
  'enforce-node-allocatable',
  'kubelet-cgroups',
  'runtime-cgroups',
  'resolv-conf',
  'address',
  'pod-max-pids',
  'image-gc-high-threshold',
  'image-gc-low-threshold',
  'streaming-connection-idle-timeout',
  'tls-cipher-suites',
  'vmodule',
  'port',
]);
const BOOL_FLAGS = new Set([
  'anonymous-auth',
  'authentication-token-webhook',
  'protect-kernel-defaults',
  'register-node',
  'rotate-certificates',
  'rotate-server-certificates',
  'fail-swap-on',
  'serialize-image-pulls',
  'help',
]);
// Flags the real kubelet deprecates in favour of the config file (it prints this warning for each).
const VIA_CONFIG = new Set([
  'anonymous-auth',
  'authentication-token-webhook',
  'authorization-mode',
  'cgroup-driver',
  'client-ca-file',
  'cluster-dns',
  'cluster-domain',
  'eviction-hard',
  'kube-reserved',
  'system-reserved',
  'max-pods',
  'protect-kernel-defaults',
  'read-only-port',
  'register-with-taints',
  'runtime-request-timeout',
  'feature-gates',
  'pod-manifest-path',
  'volume-plugin-dir',
  'provider-id',
  'tls-cert-file',
  'tls-private-key-file',
  'node-status-update-frequency',
  'enforce-node-allocatable',
  'kubelet-cgroups',
  'rotate-certificates',
  'fail-swap-on',
  'container-runtime-endpoint',
  'serialize-image-pulls',
  'resolv-conf',
  'address',
  'pod-max-pids',
  'image-gc-high-threshold',
  'image-gc-low-threshold',
  'streaming-connection-idle-timeout',
  'tls-cipher-suites',
  'rotate-server-certificates',
]);
// Flags whose fate depends on the kubelet's minor version (kubernetes cmd/kubelet/app/options/container_runtime.go:
// --pod-infra-container-image deprecated in 1.27, removed in 1.35; CHANGELOG-1.35 "Urgent Upgrade Notes").
const VERSIONED: Record<string, { deprecated: number; removed: number; message: string }> = {
  'pod-infra-container-image': {
    deprecated: 27,
    removed: 35,
    message: 'will be removed in 1.35. Image garbage collector will get sandbox image information from CRI.',
  },
};
const kubeletMinor = () => Number(/^v1\.(\d+)\./.exec(kubeletVersion())?.[1] ?? 0);

export function parseFlags(argv: string[]): { flags: Map<string, string>; version?: string } {
  const flags = new Map<string, string>();
  let version: string | undefined;
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    const m = /^--?([^=]+)(?:=(.*))?$/.exec(a);
    if (!m) continue; // positional arguments are ignored by the kubelet
    const name = a.startsWith('--') ? m[1] : m[1] === 'v' ? 'v' : m[1] === 'h' ? 'help' : '';
    if (!name) throw new Fatal(`failed to parse kubelet flag: unknown shorthand flag: '${m[1][0]}' in ${a}`);
    if (name === 'version') {
      version = m[2] ?? 'true';
      continue;
    }
    const fate = VERSIONED[name];
    if (fate && kubeletMinor() >= fate.removed) throw new Fatal(`failed to parse kubelet flag: unknown flag: --${name}`);
    if (fate && kubeletMinor() >= fate.deprecated) log('W', `Flag --${name} has been deprecated, ${fate.message}`);
    if (BOOL_FLAGS.has(name)) {
      if (m[2] !== undefined && !/^(true|false|1|0|t|f|TRUE|FALSE|True|False)$/.test(m[2])) {
        throw new Fatal(`failed to parse kubelet flag: invalid argument "${m[2]}" for "--${name}" flag: strconv.ParseBool: parsing "${m[2]}": invalid syntax`);
      }
      flags.set(name, m[2] ?? 'true');
    } else if (VALUE_FLAGS.has(name)) {
      const v = m[2] ?? argv[++k];
      if (v === undefined) throw new Fatal(`failed to parse kubelet flag: flag needs an argument: --${name}`);
      flags.set(name, v);
    } else throw new Fatal(`failed to parse kubelet flag: unknown flag: --${name}`);
    if (VIA_CONFIG.has(name)) {
      log(
        'W',
        `Flag --${name} has been deprecated, This parameter should be set via the config file specified by the Kubelet's --config flag. See https://kubernetes.io/docs/tasks/administer-cluster/kubelet-config-file/ for more information.`,
      );
    }
  }
  return { flags, version };
}

const ALLOWED_K8S_LABELS = new Set([
  'beta.kubernetes.io/arch',
  'beta.kubernetes.io/instance-type',
  'beta.kubernetes.io/os',
  'failure-domain.beta.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'kubernetes.io/arch',
  'kubernetes.io/hostname',
  'kubernetes.io/os',
  'node.kubernetes.io/instance-type',
  'topology.kubernetes.io/region',
  'topology.kubernetes.io/zone',
]);

/** --node-labels k=v,...; like the real kubelet, refuses labels in the kubernetes.io / k8s.io namespaces it does not allow. */
export function parseNodeLabels(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const bad: string[] = [];
  for (const kv of (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new Fatal(`failed to parse kubelet flag: invalid argument "${s}" for "--node-labels" flag: ${kv} must be formatted as key=value`);
    const key = kv.slice(0, i);
    out[key] = kv.slice(i + 1);
    const ns = key.includes('/') ? key.split('/')[0] : '';
    const k8sNs = /(^|\.)(kubernetes\.io|k8s\.io)$/.test(ns);
    const allowedPrefix = /(^|\.)(kubelet|node)\.kubernetes\.io$/.test(ns);
    if (k8sNs && !allowedPrefix && !ALLOWED_K8S_LABELS.has(key)) bad.push(key);
  }
  if (bad.length) {
    throw new Fatal(
      `failed to validate kubelet flags: unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: [${bad.join(' ')}]\n` +
        "--node-labels in the 'kubernetes.io' namespace must begin with an allowed prefix (kubelet.kubernetes.io, node.kubernetes.io) or be in the specifically allowed set (" +
        [...ALLOWED_K8S_LABELS].join(', ') +
        ')',
    );
  }
  return out;
}

export type Taint = { key: string; value?: string; effect: string };

export function parseTaints(list: string[]): Taint[] {
  return list.map((t) => {
    const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(t);
    if (!m) throw new Fatal(`invalid taint spec: ${t}: expected key[=value]:NoSchedule|PreferNoSchedule|NoExecute`);
    return { key: m[1]!, ...(m[2] !== undefined ? { value: m[2] } : {}), effect: m[3]! };
  });
}

export interface NodeSettings {
  name: string;
  labels: Record<string, string>;
  taints: Taint[];
  nodeIps: string[];
  maxPods: number;
  providerId?: string;
  criSocket?: string;
  /** Node status and lease renewal interval. */
  heartbeatMs: number;
  leaseSeconds: number;
  kubeconfig?: string;
  bootstrapKubeconfig?: string;
  certDir: string;
  rootDir: string;
  rotateCertificates: boolean;
  /** The kubelet's HTTPS server (port 0: none). */
  address: string;
  port: number;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  anonymousAuth: boolean;
  webhookAuthn: boolean;
  clientCaFile?: string;
  authzMode: 'Webhook' | 'AlwaysAllow';
}

export function loadKubeletConfig(path: string): Dict {
  let cfg: Dict;
  try {
    cfg = parseYaml(readFileSync(path, 'utf8')) as Dict;
  } catch (e) {
    throw new Fatal(`failed to load kubelet config file, path: ${path}, error: ${(e as Error).message}`);
  }
  if (cfg?.kind !== 'KubeletConfiguration' || cfg?.apiVersion !== 'kubelet.config.k8s.io/v1beta1') {
    throw new Fatal(
      `failed to load kubelet config file, path: ${path}, error: failed to decode: no kind "${String(cfg?.kind)}" is registered for version "${String(cfg?.apiVersion)}" in scheme "pkg/kubelet/apis/config/scheme/scheme.go:33"`,
    );
  }
  if (cfg.cgroupDriver !== undefined && !['systemd', 'cgroupfs'].includes(String(cfg.cgroupDriver))) {
    throw new Fatal(`invalid configuration: cgroupDriver (--cgroup-driver) ${String(cfg.cgroupDriver)} is not supported: expected systemd or cgroupfs`);
  }
  return cfg;
}

const bool = (v: string | undefined) => v !== undefined && /^(true|1|t|TRUE|True)$/.test(v);

/**
 * A file the config names, under $KUBELET_STANDIN_ROOT when set: a test knob for rigs that run the stand-in on the
 * host against a machine tree under a temp root (flexnode's --root), where the config's absolute paths live.
 */
export function configFile(path: string | undefined): string | undefined {
  if (!path) return undefined;
  const root = process.env.KUBELET_STANDIN_ROOT;
  return root && path.startsWith('/') ? `${root.replace(/\/$/, '')}${path}` : path;
}

export function settings(flags: Map<string, string>, cfg: Dict): NodeSettings {
  const s = readSettings(flags, cfg);
  // the kubelet loads its client CA at start and fails without it (pkg/kubelet/server, dynamiccertificates)
  if (s.clientCaFile) {
    try {
      readFileSync(s.clientCaFile);
    } catch (e) {
      throw new Fatal(`failed to run Kubelet: unable to load client CA file ${s.clientCaFile}: ${(e as Error).message}`);
    }
  }
  return s;
}

function readSettings(flags: Map<string, string>, cfg: Dict): NodeSettings {
  const name = (flags.get('hostname-override') ?? os.hostname()).trim().toLowerCase();
  const taints = parseTaints([
    ...((cfg.registerWithTaints ?? []) as Taint[]).map((t) => `${t.key}${t.value !== undefined ? `=${t.value}` : ''}:${t.effect}`),
    ...(flags.get('register-with-taints')?.split(',').filter(Boolean) ?? []),
  ]);
  const endpoint = flags.get('container-runtime-endpoint') ?? (cfg.containerRuntimeEndpoint as string | undefined) ?? 'unix:///run/containerd/containerd.sock';
  const authn = (cfg.authentication ?? {}) as { anonymous?: { enabled?: boolean }; webhook?: { enabled?: boolean }; x509?: { clientCAFile?: string } };
  const authz = (cfg.authorization ?? {}) as { mode?: string };
  const rootDir = flags.get('root-dir') ?? '/var/lib/kubelet';
  return {
    name,
    labels: parseNodeLabels(flags.get('node-labels')),
    taints,
    nodeIps: (flags.get('node-ip') ?? '').split(',').filter(Boolean),
    maxPods: Number(flags.get('max-pods') ?? cfg.maxPods ?? 110),
    providerId: flags.get('provider-id') ?? (cfg.providerID as string | undefined),
    criSocket: endpoint.startsWith('unix://') ? endpoint.slice('unix://'.length) : undefined,
    heartbeatMs:
      Number(process.env.KUBELET_STANDIN_HEARTBEAT_MS) || duration(flags.get('node-status-update-frequency') ?? cfg.nodeStatusUpdateFrequency, 10_000),
    leaseSeconds: Number(cfg.nodeLeaseDurationSeconds ?? 40),
    kubeconfig: flags.get('kubeconfig'),
    bootstrapKubeconfig: flags.get('bootstrap-kubeconfig'),
    certDir: flags.get('cert-dir') ?? `${rootDir}/pki`,
    rootDir,
    rotateCertificates: flags.has('rotate-certificates') ? bool(flags.get('rotate-certificates')) : cfg.rotateCertificates === true,
    address: flags.get('address') ?? (cfg.address as string | undefined) ?? '0.0.0.0',
    port: Number(flags.get('port') ?? cfg.port ?? 10250),
    tlsCertFile: configFile(flags.get('tls-cert-file') ?? (cfg.tlsCertFile as string | undefined)),
    tlsPrivateKeyFile: configFile(flags.get('tls-private-key-file') ?? (cfg.tlsPrivateKeyFile as string | undefined)),
    anonymousAuth: flags.has('anonymous-auth') ? bool(flags.get('anonymous-auth')) : (authn.anonymous?.enabled ?? false),
    webhookAuthn: flags.has('authentication-token-webhook') ? bool(flags.get('authentication-token-webhook')) : (authn.webhook?.enabled ?? true),
    clientCaFile: configFile(flags.get('client-ca-file') ?? authn.x509?.clientCAFile),
    authzMode: (flags.get('authorization-mode') ?? authz.mode ?? 'Webhook') === 'AlwaysAllow' ? 'AlwaysAllow' : 'Webhook',
  };
}
