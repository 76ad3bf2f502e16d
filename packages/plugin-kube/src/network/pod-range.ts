import { ConfigError, type FlexnodeConfig } from '@flexnode/sdk';
import { overlaps, parseCidr, contains, subnet, subnetCount, type Cidr } from './cidr.js';

/**
 * Ranges AKS reserves: no cluster may use them for pods, services or its virtual network (aks-docs
 * concepts-network-cni-overview.md, "AKS CNI networking prerequisites"; use-byo-cni.md). The docker bridge's
 * 172.17.0.0/16 is not among them: `dockerBridgeCidr` is gone from the network profile and AKS nodes run containerd.
 */
export const AKS_RESERVED_RANGES: readonly (readonly [cidr: string, why: string])[] = [
  ['169.254.0.0/16', 'link-local, reserved by AKS'],
  ['172.30.0.0/16', 'reserved by AKS'],
  ['172.31.0.0/16', 'reserved by AKS'],
  ['192.0.2.0/24', 'TEST-NET-1, reserved by AKS'],
];

/** The default size of a node's share of `cni.podCIDRPool`: the /24 AKS and the node-ipam controller give a node. */
export const DEFAULT_NODE_MASK_SIZE = 24;

/** The cluster's address plan as the checks need it (from `networkProfile`). */
export interface ClusterRanges {
  networkPlugin?: string;
  networkPluginMode?: string;
  podCidrs: readonly string[];
  serviceCidrs: readonly string[];
}

/** Another Node's pod ranges (from `spec.podCIDRs`, else `spec.podCIDR`). */
export interface NodeRange {
  name: string;
  podCIDRs: readonly string[];
}

/** Where this node's pod range comes from, decided before anything changes. */
export type PodRangePlan =
  /** The Node exists and carries its range already (immutable once set). */
  | { source: 'node'; cidrs: string[] }
  /** `cni.podCIDR`. */
  | { source: 'config'; cidrs: string[] }
  /** A share of `cni.podCIDRPool`, chosen for this node's name among the shares no other Node holds. */
  | { source: 'pool'; cidrs: string[]; pool: string; maskSize: number }
  /** The cluster allocates it to the Node when it registers (kubenet, Azure CNI Overlay; maybe `none`). */
  | { source: 'cluster'; certain: boolean }
  /** The node's network does not take pod addresses from a node range (or nothing can give one and none is needed). */
  | { source: 'none'; why: string };

/**
 * Whether the cluster's node-ipam controller gives every Node a `spec.podCIDR`: kubenet (a /24 per node from podCidr,
 * aks-docs configure-kubenet.md) and Azure CNI Overlay (a /24 per node, azure-cni-overlay.md) do; Azure CNI with pod
 * IPs from the VNet has no podCidr at all. For `none` (bring your own CNI) and an unknown plugin nothing says:
 * `undefined` means "perhaps" (a controller of the user's CNI may set it too).
 */
export function clusterAllocates(cluster: Pick<ClusterRanges, 'networkPlugin' | 'networkPluginMode' | 'podCidrs'>): boolean | undefined {
  if (cluster.networkPlugin === 'kubenet') return true;
  if (cluster.networkPlugin === 'azure') return cluster.networkPluginMode === 'overlay';
  if (cluster.podCidrs.length === 0 && cluster.networkPlugin !== undefined) return false;
  return undefined;
}

/** One range a candidate must not overlap, with words for the message. */
interface Forbidden {
  cidr: Cidr;
  what: string;
}

const parsedAll = (texts: readonly string[]) => texts.map((t) => parseCidr(t, false)).filter((c): c is Cidr => c !== undefined);

/** What a node's pod range must not overlap: the cluster's ranges, AKS's reserved ones, the other Nodes' ranges. */
function forbiddenRanges(cluster: ClusterRanges, others: readonly NodeRange[], includeClusterPods: boolean): Forbidden[] {
  return [
    ...(includeClusterPods ? parsedAll(cluster.podCidrs).map((cidr) => ({ cidr, what: `the cluster's pod range ${cidr.text} (networkProfile.podCidr)` })) : []),
    ...parsedAll(cluster.serviceCidrs).map((cidr) => ({ cidr, what: `the cluster's service range ${cidr.text} (networkProfile.serviceCidr)` })),
    ...AKS_RESERVED_RANGES.map(([text, why]) => ({ cidr: parseCidr(text)!, what: `${text} (${why})` })),
    ...others.flatMap((n) => parsedAll(n.podCIDRs).map((cidr) => ({ cidr, what: `Node ${n.name}'s pod range ${cidr.text}` }))),
  ];
}

const conflictsOf = (candidate: Cidr, forbidden: readonly Forbidden[]) => forbidden.filter((f) => overlaps(candidate, f.cidr));

/** A refusal naming the range, where it came from and every range it overlaps. */
function overlapError(range: string, field: string, conflicts: readonly Forbidden[]): ConfigError {
  return new ConfigError(
    `the pod range ${range} (${field}) overlaps ${conflicts.map((c) => c.what).join('; ')}`,
    [{ path: field, message: `overlaps ${conflicts.map((c) => c.cidr.text).join(', ')}` }],
    'give this node a pod range of its own: pods on two networks with the same addresses cannot reach each other, and the cluster would route their traffic to the wrong node',
  );
}

/** 64-bit FNV-1a of a name: the same start in the pool for the same node on every run and every machine. */
export function nameHash(name: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(name, 'utf8')) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

/**
 * This node's share of the pool: from the slot its name hashes to, the first `/maskSize` that overlaps nothing in
 * `forbidden` (the other Nodes' ranges first of all). Deterministic: the same name and the same other Nodes give
 * the same share; two nodes never get the same one from the same list.
 */
export function poolShare(pool: Cidr, maskSize: number, nodeName: string, forbidden: readonly Forbidden[]): Cidr | undefined {
  const count = subnetCount(pool, maskSize);
  const start = nameHash(nodeName) % count;
  for (let i = 0n; i < count; i++) {
    const candidate = subnet(pool, maskSize, (start + i) % count)!;
    if (conflictsOf(candidate, forbidden).length === 0) return candidate;
  }
  return undefined;
}

export interface PodRangeInput {
  config: FlexnodeConfig;
  cluster: ClusterRanges;
  nodeName: string;
  /** The pod ranges of the other Nodes (this node's own Node excluded); undefined when they could not be listed. */
  others: readonly NodeRange[] | undefined;
  /** This node's Node when it exists already (a re-run, or registered by the kubelet). */
  self?: NodeRange;
  /** The node's network takes pod addresses from the node's range (CniService.usesNodePodCIDR). */
  needed: boolean;
}

/** The kubelet's maxPods: `node.maxPods`, else the kubelet's default. */
export const maxPodsOf = (config: FlexnodeConfig): number => config.node?.maxPods ?? 110;

/**
 * Pod addresses a node range holds: all but its network, gateway (the bridge's, host-local's default: the first
 * address) and broadcast addresses (CNI host-local IPAM, containernetworking/plugins plugins/ipam/host-local
 * README: rangeStart and rangeEnd default to the first and last usable addresses). A /24 holds 253.
 */
export function podAddresses(c: Cidr): number {
  const hostBits = (c.family === 4 ? 32 : 128) - c.bits;
  return hostBits >= 53 ? Number.MAX_SAFE_INTEGER : Math.max(0, 2 ** hostBits - 3);
}

/**
 * A range that cannot give every pod the kubelet admits (node.maxPods) an address is refused: the pods past it
 * would stay ContainerCreating ("no IP addresses available in range set"), with nothing in flexnode saying why.
 */
export function checkRoomForPods(cidrs: readonly Cidr[], maxPods: number, what: string): void {
  for (const c of cidrs) {
    const room = podAddresses(c);
    if (room >= maxPods) continue;
    throw new ConfigError(
      `node.maxPods is ${maxPods}, but ${what} ${c.text} holds ${room} pod address(es) (a /${c.bits} less its network, gateway and broadcast addresses)`,
      [{ path: 'node.maxPods', message: `at most ${room} with the pod range ${c.text}` }],
      `lower node.maxPods to ${room} or less, or give the node a larger pod range (a shorter prefix in cni.podCIDR or cni.podCIDRPool.nodeMaskSize)`,
    );
  }
}

/**
 * A plan made before (kube.network's record) against node.maxPods as the config says now: raising maxPods after the
 * join is refused as at the join (a cluster-allocated range is checked as the /24 AKS gives, again once known).
 */
export function checkPlanRoom(plan: PodRangePlan, maxPods: number): void {
  if (plan.source === 'cluster' && plan.certain) {
    checkRoomForPods([parseCidr(`10.0.0.0/${DEFAULT_NODE_MASK_SIZE}`)!], maxPods, `a /${DEFAULT_NODE_MASK_SIZE} (what the cluster gives each Node), e.g.`);
  } else if ('cidrs' in plan) {
    const what = plan.source === 'config' ? 'cni.podCIDR' : plan.source === 'pool' ? "this node's share of cni.podCIDRPool," : "the Node's spec.podCIDR";
    checkRoomForPods(parsedAll(plan.cidrs), maxPods, what);
  }
}

/** `cni.podCIDRPool` checked: the pool and the share size. */
export function podPool(config: FlexnodeConfig): { pool: Cidr; maskSize: number } | undefined {
  const raw = config.cni?.podCIDRPool;
  if (!raw) return undefined;
  const pool = parseCidr(raw.cidr);
  if (!pool)
    throw new ConfigError(`cni.podCIDRPool.cidr "${raw.cidr}" is not a network address with its prefix`, [
      { path: 'cni.podCIDRPool.cidr', message: 'expected a CIDR such as 10.90.0.0/16' },
    ]);
  const maskSize = raw.nodeMaskSize ?? DEFAULT_NODE_MASK_SIZE;
  if (maskSize < pool.bits) {
    throw new ConfigError(`cni.podCIDRPool.nodeMaskSize /${maskSize} is larger than the pool ${pool.text}`, [
      { path: 'cni.podCIDRPool.nodeMaskSize', message: `at least ${pool.bits}` },
    ]);
  }
  return { pool, maskSize };
}

/** `cni.podCIDR` checked. */
function configuredRange(config: FlexnodeConfig): Cidr | undefined {
  const raw = config.cni?.podCIDR;
  if (raw === undefined) return undefined;
  const c = parseCidr(raw);
  if (!c)
    throw new ConfigError(`cni.podCIDR "${raw}" is not a network address with its prefix`, [
      { path: 'cni.podCIDR', message: 'expected a CIDR such as 10.244.1.0/24' },
    ]);
  return c;
}

/**
 * Where this node's pod range comes from, in order: the Node's `spec.podCIDRs` when the cluster allocates them (or
 * the Node has them already), `cni.podCIDR`, a share of `cni.podCIDRPool`. Every range chosen here is checked against
 * the cluster's pod and service ranges, AKS's reserved ranges and the other Nodes' ranges: an overlap is a
 * ConfigError (exit 2) naming each range. A cluster that allocates the ranges itself does not take a configured one:
 * the Node's `spec.podCIDR` is immutable once set, and the bridge must use the one the cluster routes to.
 */
export function planPodRange(input: PodRangeInput): PodRangePlan {
  const { config, cluster, nodeName } = input;
  const configured = configuredRange(config);
  const pool = podPool(config);
  if (!input.needed) {
    return { source: 'none', why: "the node's network gives pods addresses of its own (no node pod range is used)" };
  }
  const others = input.others ?? [];
  const allocates = clusterAllocates(cluster);
  const maxPods = maxPodsOf(config);

  const own = input.self ? parsedAll(input.self.podCIDRs) : [];
  if (own.length > 0) {
    // Immutable: whatever the config says must agree with it.
    const primary = own[0]!;
    if (configured && configured.text !== primary.text) {
      throw new ConfigError(
        `cni.podCIDR is ${configured.text}, but Node ${nodeName} already has the pod range ${primary.text} (spec.podCIDR cannot change once set)`,
        [{ path: 'cni.podCIDR', message: `the Node's range is ${primary.text}` }],
        `set cni.podCIDR to ${primary.text} (or remove it), or delete the Node (flexnode unbootstrap) to start with another range`,
      );
    }
    if (!configured && pool && allocates !== true && !contains(pool.pool, primary)) {
      throw new ConfigError(
        `Node ${nodeName} already has the pod range ${primary.text}, outside cni.podCIDRPool ${pool.pool.text}`,
        [{ path: 'cni.podCIDRPool.cidr', message: `does not contain ${primary.text}` }],
        'delete the Node (flexnode unbootstrap) to take a share of the pool, or widen the pool',
      );
    }
    for (const c of own) {
      const conflicts = conflictsOf(c, forbiddenRanges(cluster, others, false));
      if (conflicts.length > 0) throw overlapError(c.text, `Node ${nodeName}'s spec.podCIDR`, conflicts);
    }
    checkRoomForPods(own, maxPods, `Node ${nodeName}'s spec.podCIDR`);
    return { source: 'node', cidrs: own.map((c) => c.text) };
  }

  if (allocates === true) {
    const field = configured ? 'cni.podCIDR' : pool ? 'cni.podCIDRPool' : undefined;
    if (field) {
      throw new ConfigError(
        `${field} is set, but the cluster (network plugin ${describePlugin(cluster)}) gives every Node its pod range when it registers`,
        [{ path: field, message: 'not used with a cluster that allocates node pod ranges' }],
        `remove ${field}: the default bridge takes the range the cluster allocates (the Node's spec.podCIDR), which is the one the cluster routes to this node`,
      );
    }
    // AKS gives each Node a /24 of the cluster's pod range (kubenet and Azure CNI Overlay; the node-ipam
    // controller's default --node-cidr-mask-size too): checked again against the range it gives, once given.
    checkRoomForPods([parseCidr(`10.0.0.0/${DEFAULT_NODE_MASK_SIZE}`)!], maxPods, `a /${DEFAULT_NODE_MASK_SIZE} (what the cluster gives each Node), e.g.`);
    return { source: 'cluster', certain: true };
  }

  if (configured) {
    const conflicts = conflictsOf(configured, forbiddenRanges(cluster, others, true));
    if (conflicts.length > 0) throw overlapError(configured.text, 'cni.podCIDR', conflicts);
    checkRoomForPods([configured], maxPods, 'cni.podCIDR');
    return { source: 'config', cidrs: [configured.text] };
  }

  if (pool) {
    const poolConflicts = conflictsOf(pool.pool, forbiddenRanges(cluster, [], true));
    if (poolConflicts.length > 0) throw overlapError(pool.pool.text, 'cni.podCIDRPool.cidr', poolConflicts);
    const forbidden = forbiddenRanges(cluster, others, true);
    const share = poolShare(pool.pool, pool.maskSize, nodeName, forbidden);
    if (!share) {
      const holders = others.filter((n) => parsedAll(n.podCIDRs).some((c) => overlaps(c, pool.pool))).map((n) => n.name);
      throw new ConfigError(
        `cni.podCIDRPool ${pool.pool.text} has no free /${pool.maskSize} left (held by ${holders.join(', ') || 'nothing listed'})`,
        [{ path: 'cni.podCIDRPool.cidr', message: `every /${pool.maskSize} is taken` }],
        'widen the pool, use a larger nodeMaskSize, or remove Nodes that are gone',
      );
    }
    checkRoomForPods([share], maxPods, `this node's /${pool.maskSize} share of cni.podCIDRPool,`);
    return { source: 'pool', cidrs: [share.text], pool: pool.pool.text, maskSize: pool.maskSize };
  }

  if (allocates === undefined) return { source: 'cluster', certain: false };
  throw new ConfigError(
    `this node needs a pod range and the cluster (network plugin ${describePlugin(cluster)}) allocates none to its Nodes`,
    [{ path: 'cni.podCIDR', message: 'required here (or cni.podCIDRPool)' }],
    "set cni.podCIDR to a range of its own for this node, or cni.podCIDRPool to a range the edge nodes share; neither may overlap the cluster's pod or service ranges",
  );
}

/**
 * Check a range the cluster allocated, once known: it must not overlap the service range, reserved ones or other
 * Nodes', and must hold maxPods pod addresses.
 */
export function checkAllocatedRange(cidrs: readonly string[], nodeName: string, cluster: ClusterRanges, others: readonly NodeRange[], maxPods: number): void {
  for (const c of parsedAll(cidrs)) {
    const conflicts = conflictsOf(c, forbiddenRanges(cluster, others, false));
    if (conflicts.length > 0) throw overlapError(c.text, `Node ${nodeName}'s spec.podCIDR`, conflicts);
  }
  checkRoomForPods(parsedAll(cidrs), maxPods, `Node ${nodeName}'s spec.podCIDR`);
}

/** The share of the pool a node would take now, for re-checking a choice after a concurrent join. */
export function poolShareFor(config: FlexnodeConfig, nodeName: string, cluster: ClusterRanges, others: readonly NodeRange[]): string | undefined {
  const pool = podPool(config);
  return pool ? poolShare(pool.pool, pool.maskSize, nodeName, forbiddenRanges(cluster, others, true))?.text : undefined;
}

/** `kubenet`, `azure (overlay)`, `none`, for messages. */
export function describePlugin(cluster: Pick<ClusterRanges, 'networkPlugin' | 'networkPluginMode'>): string {
  return `${cluster.networkPlugin ?? 'unknown'}${cluster.networkPluginMode ? ` (${cluster.networkPluginMode})` : ''}`;
}

/** Where a plan's range comes from, for logs and status. */
export function describePlan(plan: PodRangePlan): string {
  switch (plan.source) {
    case 'node':
      return `${plan.cidrs.join(', ')} (the Node's spec.podCIDR)`;
    case 'config':
      return `${plan.cidrs.join(', ')} (cni.podCIDR)`;
    case 'pool':
      return `${plan.cidrs.join(', ')} (a /${plan.maskSize} of cni.podCIDRPool ${plan.pool})`;
    case 'cluster':
      return plan.certain ? 'allocated by the cluster when the Node registers' : "the Node's spec.podCIDR, once something in the cluster sets it";
    case 'none':
      return plan.why;
  }
}
