// Flags and the KubeProxyConfiguration of the kube-proxy STAND-IN, checked as the real kube-proxy checks them:
// the flag set of cmd/kube-proxy/app/options.go (unknown flags fail as pflag fails), the config file decoded
// strictly (an unknown field is fatal: kube-proxy's codec is strict) against the v1alpha1 field names
// (staging/src/k8s.io/kube-proxy/config/v1alpha1/types.go), and the validation that matters here
// (pkg/proxy/apis/config/validation: proxy mode, detectLocalMode, clusterCIDR one per family, nodePortAddresses).
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import { Fatal, kubeletVersion, log, type Dict } from '../kubelet/common.js';
import { parseYaml } from '../kubelet/yaml.js';

const VALUE_FLAGS = new Set([
  'config',
  'kubeconfig',
  'master',
  'hostname-override',
  'bind-address',
  'healthz-bind-address',
  'metrics-bind-address',
  'cluster-cidr',
  'proxy-mode',
  'nodeport-addresses',
  'feature-gates',
  'v',
  'vmodule',
  'oom-score-adj',
  'write-config-to',
  'detect-local-mode',
  'config-sync-period',
  'iptables-sync-period',
  'iptables-min-sync-period',
]);
const BOOL_FLAGS = new Set(['cleanup', 'help', 'profiling', 'bind-address-hard-fail', 'masquerade-all']);

/** The v1alpha1 KubeProxyConfiguration's top-level fields. */
const FIELDS = new Set([
  'apiVersion',
  'kind',
  'featureGates',
  'clientConnection',
  'logging',
  'hostnameOverride',
  'bindAddress',
  'healthzBindAddress',
  'metricsBindAddress',
  'bindAddressHardFail',
  'enableProfiling',
  'showHiddenMetricsForVersion',
  'mode',
  'iptables',
  'ipvs',
  'nftables',
  'winkernel',
  'detectLocalMode',
  'detectLocal',
  'clusterCIDR',
  'nodePortAddresses',
  'oomScoreAdj',
  'conntrack',
  'configSyncPeriod',
  'portRange',
  'windowsRunAsService',
]);
const CLIENT_FIELDS = new Set(['kubeconfig', 'acceptContentTypes', 'contentType', 'qps', 'burst']);

export function parseFlags(argv: string[]): { flags: Map<string, string>; version?: string } {
  const flags = new Map<string, string>();
  let version: string | undefined;
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    const m = /^--?([^=]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Fatal(`"kube-proxy" does not take any arguments, got ["${a}"]`);
    const name = m[1] === 'h' ? 'help' : m[1]!;
    if (name === 'version') {
      version = m[2] ?? 'true';
      continue;
    }
    if (BOOL_FLAGS.has(name)) flags.set(name, m[2] ?? 'true');
    else if (VALUE_FLAGS.has(name)) {
      const v = m[2] ?? argv[++k];
      if (v === undefined) throw new Fatal(`flag needs an argument: --${name}`);
      flags.set(name, v);
    } else throw new Fatal(`unknown flag: --${name}`);
  }
  return { flags, version };
}

export interface ProxySettings {
  nodeName: string;
  kubeconfig: string;
  mode: string;
  clusterCIDRs: string[];
  detectLocalMode: string;
  healthz?: { host: string; port: number };
  metrics?: { host: string; port: number };
}

const minor = () => Number(/^v1\.(\d+)\./.exec(kubeletVersion())?.[1] ?? 0);

function hostPort(v: unknown, what: string): { host: string; port: number } | undefined {
  if (v === undefined || v === '') return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(String(v));
  if (!m || Number(m[3]) > 65535) throw new Fatal(`invalid configuration: ${what}: Invalid value: "${String(v)}": must be IP:port`);
  return { host: m[1] ?? m[2]!, port: Number(m[3]) };
}

function cidr(text: string): 4 | 6 | undefined {
  const [address, bits, extra] = text.split('/');
  const family = address ? isIP(address) : 0;
  if (!family || bits === undefined || extra !== undefined || !/^\d+$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128)) return undefined;
  return family as 4 | 6;
}

/** A file the config names, under $KUBE_PROXY_STANDIN_ROOT when set (rigs that keep the machine under a temp root). */
export function configFile(path: string): string {
  const root = process.env.KUBE_PROXY_STANDIN_ROOT;
  return root && path.startsWith('/') ? `${root.replace(/\/$/, '')}${path}` : path;
}

/** Load --config (strictly), apply the flags the real kube-proxy lets override it, validate. */
export function loadSettings(flags: Map<string, string>): ProxySettings {
  let cfg: Dict = {};
  const path = flags.get('config');
  if (path) {
    try {
      cfg = parseYaml(readFileSync(configFile(path), 'utf8')) as Dict;
    } catch (e) {
      throw new Fatal(`failed to load config file "${path}": ${(e as Error).message}`);
    }
    if (cfg?.kind !== 'KubeProxyConfiguration' || cfg?.apiVersion !== 'kubeproxy.config.k8s.io/v1alpha1') {
      throw new Fatal(`failed to load config file "${path}": no kind "${String(cfg?.kind)}" is registered for version "${String(cfg?.apiVersion)}"`);
    }
    for (const key of Object.keys(cfg))
      if (!FIELDS.has(key)) throw new Fatal(`failed to load config file "${path}": strict decoding error: unknown field "${key}"`);
    for (const key of Object.keys((cfg.clientConnection ?? {}) as Dict)) {
      if (!CLIENT_FIELDS.has(key)) throw new Fatal(`failed to load config file "${path}": strict decoding error: unknown field "clientConnection.${key}"`);
    }
  }
  const mode = String(flags.get('proxy-mode') ?? cfg.mode ?? 'iptables') || 'iptables';
  if (!['iptables', 'ipvs', 'nftables'].includes(mode))
    throw new Fatal(`invalid configuration: Mode: Invalid value: "${mode}": must be iptables, ipvs or nftables`);
  const detectLocalMode = String(cfg.detectLocalMode ?? '') || 'ClusterCIDR';
  if (!['ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix'].includes(detectLocalMode)) {
    throw new Fatal(`invalid configuration: DetectLocalMode: Invalid value: "${detectLocalMode}"`);
  }
  const clusterCIDRs = String(flags.get('cluster-cidr') ?? cfg.clusterCIDR ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  const families = clusterCIDRs.map((c) => {
    const f = cidr(c);
    if (!f)
      throw new Fatal(
        `invalid configuration: ClusterCIDR: Invalid value: "${clusterCIDRs.join(',')}": must be a valid CIDR block (e.g. 10.100.0.0/16 or fde4:8dba:82e1::/48)`,
      );
    return f;
  });
  if (families.length > 2 || new Set(families).size !== families.length) {
    throw new Fatal(`invalid configuration: ClusterCIDR: Invalid value: "${clusterCIDRs.join(',')}": only one CIDR allowed or a valid DualStack CIDR`);
  }
  for (const a of (cfg.nodePortAddresses ?? []) as string[]) {
    // 'primary' is a keyword from 1.30 on (kubernetes PR #123105); before, only CIDRs.
    if (!(a === 'primary' && minor() >= 30) && !cidr(a))
      throw new Fatal(`invalid configuration: NodePortAddresses[0]: Invalid value: "${a}": must be a valid CIDR`);
  }
  const kubeconfig = flags.get('kubeconfig') ?? ((cfg.clientConnection ?? {}) as Dict).kubeconfig;
  if (!kubeconfig)
    throw new Fatal(
      'invalid configuration: no configuration has been provided (neither a kubeconfig nor in-cluster config: this stand-in has no in-cluster mode)',
    );
  if (detectLocalMode === 'ClusterCIDR' && clusterCIDRs.length === 0)
    log('W', 'Detect-local-mode set to ClusterCIDR, but no cluster CIDR specified for primary IP family');
  return {
    nodeName: String(flags.get('hostname-override') ?? cfg.hostnameOverride ?? os.hostname())
      .trim()
      .toLowerCase(),
    kubeconfig: configFile(String(kubeconfig)),
    mode,
    clusterCIDRs,
    detectLocalMode,
    healthz: hostPort(flags.get('healthz-bind-address') ?? cfg.healthzBindAddress ?? '0.0.0.0:10256', 'HealthzBindAddress'),
    metrics: hostPort(flags.get('metrics-bind-address') ?? cfg.metricsBindAddress ?? '127.0.0.1:10249', 'MetricsBindAddress'),
  };
}
