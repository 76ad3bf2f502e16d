import { ConfigError, type FlexnodeConfig } from '@flexnode/sdk';
import { CHECK_NAMES, OTHER_CHECK_NAMES, isSkippable } from './preflight/check-names.js';

/** This plugin's package name: the key of its section in `pluginConfig`. */
export const PLUGIN_NAME = '@flexnode/plugin-kube';

/**
 * plugin-kube's own settings, from `pluginConfig["@flexnode/plugin-kube"]` (the schema leaves that section free-form,
 * so it is checked here, with the field's path in every error).
 */
export interface KubeSettings {
  /** Preflight checks to skip by name (`memory`, `disk`, ...), like kubeadm's --ignore-preflight-errors. `all` skips all. */
  skipPreflight: string[];
  /**
   * Run the kubelet with protectKernelDefaults (upstream passes --protect-kernel-defaults) and set the kernel settings
   * it then insists on. Default true.
   */
  protectKernelDefaults: boolean;
  /**
   * Set the kernel limits AKS's nodes have (kernel.pid_max, fs.inotify.*; AgentBaker sysctl-d-60-CIS.conf). Default
   * true; off where the kernel-wide settings are read-only (a container, an nspawn box).
   */
  kernelTuning: boolean;
  /** Ask the cluster for a serving certificate (needs a CSR approver in the cluster). Default false. */
  serverTLSBootstrap: boolean;
  /** The node's InternalIP (`--node-ip`); default: the source address of the route to the API server. */
  nodeIP?: string;
  /** How long bootstrap waits for the Node to be Ready after starting the kubelet. Default 180. */
  readyTimeoutSeconds: number;
  /** Refuse a cluster without Azure RBAC (the node identity could not be authorised). Default true. */
  requireAzureRbac: boolean;
  /** Label the node `node.kubernetes.io/exclude-from-external-load-balancers=true` (out of the cluster's load balancers). Default true. */
  excludeFromExternalLoadBalancers: boolean;
  /** How long to wait for the cluster to give a new Node its pod range (spec.podCIDR). Default 120. */
  podCIDRTimeoutSeconds: number;
  /** bootstrap-token mode: minutes the node's bootstrap token is valid (only until the kubelet has its certificate). Default 30. */
  bootstrapTokenTtlMinutes: number;
  /** How long a drain (unbootstrap, upgrade) waits for the node's pods to be evicted. Default 600. */
  drainTimeoutSeconds: number;
  /** How long the API server may be unreachable before the node counts as unhealthy. Default 300. */
  apiServerGraceSeconds: number;
  /** How long an upgrade waits for a slot among the cluster's concurrent upgrades. Default 1800. */
  upgradeSlotWaitSeconds: number;
  /**
   * How long the node identity's requests denied by the cluster (HTTP 403) are asked again, from the first denial:
   * Azure RBAC role assignments reach AKS minutes after they are made, and a denial stays cached meanwhile
   * (cluster/rbac-propagation.ts). Default 600; 0: a denial fails at once.
   */
  rbacPropagationSeconds: number;
}

const DEFAULTS: KubeSettings = {
  skipPreflight: [],
  protectKernelDefaults: true,
  kernelTuning: true,
  serverTLSBootstrap: false,
  readyTimeoutSeconds: 180,
  requireAzureRbac: true,
  excludeFromExternalLoadBalancers: true,
  podCIDRTimeoutSeconds: 120,
  bootstrapTokenTtlMinutes: 30,
  // AKS's upgrades wait up to 30 min for a node's drain; kubectl drain forever. 10 min for one edge node.
  drainTimeoutSeconds: 600,
  // The cluster's taint-based eviction takes pods off an unreachable node after 300 s
  // (--default-not-ready-toleration-seconds, --default-unreachable-toleration-seconds): by then the node no longer serves.
  apiServerGraceSeconds: 300,
  upgradeSlotWaitSeconds: 1800,
  // Up to 5 min for a new assignment to reach AKS's authorizer, then up to 3 min of a denial cached in guard, and margin.
  rbacPropagationSeconds: 600,
};

/** The settings in seconds besides readyTimeoutSeconds, with their maximum. */
const SECONDS = [
  ['drainTimeoutSeconds', 86_400],
  ['apiServerGraceSeconds', 86_400],
  ['upgradeSlotWaitSeconds', 86_400],
  ['rbacPropagationSeconds', 3600],
] as const;

/** The settings of this config, validated; throws {@link ConfigError} naming the field. */
export function kubeSettings(config: FlexnodeConfig): KubeSettings {
  const raw = config.pluginConfig?.[PLUGIN_NAME];
  if (raw === undefined) return { ...DEFAULTS };
  const at = (field: string) => `pluginConfig["${PLUGIN_NAME}"].${field}`;
  const bad = (field: string, expected: string): never => {
    throw new ConfigError(`${at(field)} must be ${expected}`, [{ path: at(field), message: `expected ${expected}` }]);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('', 'an object');
  const r = raw as Record<string, unknown>;
  const known = [
    'skipPreflight',
    'protectKernelDefaults',
    'kernelTuning',
    'serverTLSBootstrap',
    'nodeIP',
    'readyTimeoutSeconds',
    'requireAzureRbac',
    'excludeFromExternalLoadBalancers',
    'podCIDRTimeoutSeconds',
    'bootstrapTokenTtlMinutes',
    ...SECONDS.map(([k]) => k),
  ];
  for (const key of Object.keys(r)) {
    if (!known.includes(key)) {
      throw new ConfigError(`${at(key)} is not a setting of ${PLUGIN_NAME}`, [{ path: at(key), message: `unknown; known: ${known.join(', ')}` }]);
    }
  }
  const out: KubeSettings = { ...DEFAULTS };
  if (r.skipPreflight !== undefined) {
    if (!Array.isArray(r.skipPreflight) || r.skipPreflight.some((s) => typeof s !== 'string')) bad('skipPreflight', 'an array of check names');
    // A misspelt name skipped nothing, silently: the check it meant to skip still stopped the run.
    const unknown = (r.skipPreflight as string[]).find((s) => !isSkippable(s));
    if (unknown !== undefined)
      bad('skipPreflight', `check names (no check is named ${JSON.stringify(unknown)}; checks: ${[...CHECK_NAMES, ...OTHER_CHECK_NAMES, 'all'].join(', ')})`);
    out.skipPreflight = [...(r.skipPreflight as string[])];
  }
  for (const key of ['protectKernelDefaults', 'kernelTuning', 'serverTLSBootstrap', 'requireAzureRbac', 'excludeFromExternalLoadBalancers'] as const) {
    if (r[key] === undefined) continue;
    if (typeof r[key] !== 'boolean') bad(key, 'true or false');
    out[key] = r[key] as boolean;
  }
  if (r.nodeIP !== undefined) {
    if (typeof r.nodeIP !== 'string' || !isNodeIP(r.nodeIP)) bad('nodeIP', 'an IP address (or an IPv4,IPv6 pair)');
    out.nodeIP = r.nodeIP as string;
  }
  for (const [key, max] of [['readyTimeoutSeconds', 3600], ['podCIDRTimeoutSeconds', 3600], ...SECONDS] as const) {
    const n = r[key];
    if (n === undefined) continue;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) bad(key, `an integer between 0 and ${max}`);
    out[key] = n as number;
  }
  if (r.bootstrapTokenTtlMinutes !== undefined) {
    const n = r.bootstrapTokenTtlMinutes;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 5 || n > 1440) bad('bootstrapTokenTtlMinutes', 'an integer between 5 and 1440');
    out.bootstrapTokenTtlMinutes = n as number;
  }
  return out;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** An IPv6 address as the URL parser reads one in brackets (node:net's isIP would load node:net for a setting). */
function isIPv6(value: string): boolean {
  if (!value.includes(':') || /[^0-9a-fA-F.:]/.test(value)) return false;
  try {
    return new URL(`http://[${value}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

/** The kubelet's --node-ip: one address, or an IPv4,IPv6 pair (dual stack), either order. */
export function isNodeIP(value: string): boolean {
  const parts = value.split(',');
  if (parts.length === 1) return IPV4.test(value) || isIPv6(value);
  return parts.length === 2 && IPV4.test(parts[0]!) !== IPV4.test(parts[1]!) && parts.every((p) => IPV4.test(p) || isIPv6(p));
}
