import {
  drifted,
  findRecord,
  missing,
  ok,
  replaceRecord,
  StepError,
  type AzureContext,
  type CheckResult,
  type FlexnodeConfig,
  type Host,
  type NodeIdentity,
  type ServiceProxyService,
  type StepInstance,
} from '@flexnode/sdk';
import { kubeletAuth } from '../auth.js';
import { defaultClusterReader, type ClusterReader } from '../cluster/cluster.js';
import { OperatorKube } from '../cluster/operator-kube.js';
import { clusterFacts, FACTS_RECORD, rememberFacts } from '../cluster/recorded.js';
import { isUnreachable, type ApiAnswer, type KubeClient, type NodeApiOptions } from '../kubelet/api.js';
import { NO_NODE_CERTIFICATE, nodeClient } from '../kubelet/node-access.js';
import { nodeName } from '../kubelet/step.js';
import { DENIED_POLL_MS, whileDenied } from '../cluster/rbac-propagation.js';
import { kubeSettings } from '../settings.js';
import { messageOf } from '../util.js';
import { parseCidr } from './cidr.js';
import { podCIDRsOf, rangesOf, statusMessage, type NodesApi } from './nodes.js';
import { planPodRange } from './pod-range.js';
import { clusterNetwork, clusterRanges, registrationLabels, registrationTaints } from './registration.js';
import type { Taint } from '../kubelet/config.js';

/** Custom record: the labels and taints flexnode set on its Node (one no longer wanted is removed again). */
export const NODE_LABELS_RECORD = 'node-labels';

interface NodeLabelsRecord {
  node: string;
  labels: string[];
  /** `key:Effect` of the taints node.taints set (absent in records of versions before taints were reconciled). */
  taints?: string[];
}

/** What the Node should carry: flexnode's labels and node.taints, and the configured pod range. */
interface Wanted {
  name: string;
  labels: Record<string, string>;
  /** Labels flexnode set before that it no longer wants (removed). */
  stale: string[];
  taints: Taint[];
  /** `key:Effect` of taints flexnode set before that node.taints no longer lists (removed). */
  staleTaints: string[];
  podCIDR?: string;
}

/** How many times a taint patch is redone after a 409 (the Node changed between the read and the patch). */
const CONFLICT_ATTEMPTS = 5;

const resourceVersionOf = (node: Record<string, unknown>): string | undefined => (node.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;

/** A taint's identity on a Node: its key and effect (a Node holds at most one of each). */
const taintId = (t: Pick<Taint, 'key' | 'effect'>) => `${t.key}:${t.effect}`;

/**
 * The Node's taints with node.taints applied: each wanted one present with its value, the ones flexnode set that are
 * no longer wanted gone, everyone else's (the node lifecycle controller's, a cordon's, an operator's) kept.
 */
function taintChanges(have: readonly Taint[], want: Wanted): { taints?: Taint[]; reasons: string[] } {
  const reasons: string[] = [];
  const next = have.filter((t) => {
    if (!want.staleTaints.includes(taintId(t)) || want.taints.some((w) => taintId(w) === taintId(t))) return true;
    reasons.push(`taint ${taintId(t)} is no longer wanted`);
    return false;
  });
  for (const w of want.taints) {
    const at = next.findIndex((t) => taintId(t) === taintId(w));
    if (at < 0) {
      next.push(w);
      reasons.push(`taint ${taintId(w)} is missing`);
    } else if ((next[at]!.value ?? '') !== (w.value ?? '')) {
      reasons.push(`taint ${taintId(w)} has the value "${next[at]!.value ?? ''}", not "${w.value ?? ''}"`);
      next[at] = w;
    }
  }
  return reasons.length ? { taints: next, reasons } : { reasons };
}

/** How the Node differs from what is wanted; empty when it matches. */
function differences(node: Record<string, unknown>, want: Wanted): { patch: Record<string, unknown>; reasons: string[]; taints?: Taint[]; conflict?: string } {
  const have = ((node.metadata as { labels?: Record<string, string> } | undefined)?.labels ?? {}) as Record<string, string>;
  const labels: Record<string, string | null> = {};
  const reasons: string[] = [];
  for (const [k, v] of Object.entries(want.labels)) {
    if (have[k] !== v) {
      labels[k] = v;
      reasons.push(have[k] === undefined ? `label ${k}=${v} is missing` : `label ${k} is ${have[k]}, not ${v}`);
    }
  }
  for (const k of want.stale) {
    if (have[k] !== undefined) {
      labels[k] = null;
      reasons.push(`label ${k} is no longer wanted`);
    }
  }
  const patch: Record<string, unknown> = Object.keys(labels).length ? { metadata: { labels } } : {};
  const tainted = taintChanges(((node.spec as { taints?: Taint[] } | undefined)?.taints ?? []) as Taint[], want);
  reasons.push(...tainted.reasons);
  let conflict: string | undefined;
  if (want.podCIDR) {
    const live = podCIDRsOf(node);
    if (live.length === 0) {
      patch.spec = { podCIDR: want.podCIDR, podCIDRs: [want.podCIDR] };
      reasons.push(`the Node does not carry its pod range ${want.podCIDR} yet`);
    } else if (live[0] !== want.podCIDR) {
      conflict = `Node ${want.name} has the pod range ${live.join(', ')} from the cluster, but cni.podCIDR (the bridge's range) is ${want.podCIDR}`;
    }
  }
  // A merge patch replaces the list whole: the full list, everyone's taints included.
  return { patch, reasons, ...(tainted.taints ? { taints: tainted.taints } : {}), ...(conflict ? { conflict } : {}) };
}

/** What tests inject into `kube.node` (steps.ts). */
export interface NodeStepOptions {
  readCluster?: ClusterReader;
  nodesApi?: (o: NodeApiOptions) => NodesApi;
  operatorClient?: (o: NodeApiOptions) => KubeClient;
}

/** What `kube.node` (steps.ts) is given. */
export interface NodeDeps {
  host: Host;
  config: FlexnodeConfig;
  azure: AzureContext;
  identity: NodeIdentity;
  proxy: ServiceProxyService;
}

/**
 * The operations of `kube.node` (steps.ts): the labels flexnode sets and the configured pod range patched onto the
 * Node, as the node; the labels set are recorded.
 */
export function nodeOps({ host, config, azure, identity, proxy }: NodeDeps, options: NodeStepOptions = {}): StepInstance {
  const readCluster = options.readCluster ?? defaultClusterReader;
  const wanted = async (): Promise<Wanted & { facts: Awaited<ReturnType<typeof clusterFacts>> }> => {
    const facts = await clusterFacts(host, config, azure, readCluster, 'kube.node');
    const name = await nodeName(host, config);
    const labels = registrationLabels(config, kubeSettings(config), proxy.plan(clusterNetwork(facts)));
    const record = findRecord<NodeLabelsRecord>(host, NODE_LABELS_RECORD);
    const stale = record && record.node === name ? record.labels.filter((k) => !(k in labels)) : [];
    const taints = registrationTaints(config);
    const staleTaints = record && record.node === name ? (record.taints ?? []).filter((id) => !taints.some((t) => taintId(t) === id)) : [];
    const podCIDR = config.cni?.podCIDR !== undefined ? (parseCidr(config.cni.podCIDR)?.text ?? config.cni.podCIDR) : undefined;
    return { facts, name, labels, stale, taints, staleTaints, ...(podCIDR ? { podCIDR } : {}) };
  };
  const read = async (name: string): Promise<{ node?: Record<string, unknown>; unreachable?: string; answer?: ApiAnswer }> => {
    const c = await nodeClient(host, config, identity, options.nodesApi);
    if (!c) return { unreachable: 'the kubelet kubeconfig is missing' };
    try {
      const answer = await c.api.get(name);
      return answer.status === 200 ? { node: answer.body, answer } : { answer };
    } catch (error) {
      if (isUnreachable(error)) return { unreachable: `the API server ${c.server} does not answer (${messageOf(error)})` };
      if ((error as { code?: string }).code === NO_NODE_CERTIFICATE) return { unreachable: messageOf(error) };
      throw error;
    }
  };

  const check = async (): Promise<CheckResult> => {
    const want = await wanted();
    if (!findRecord<NodeLabelsRecord>(host, NODE_LABELS_RECORD)) return missing(`the labels of Node ${want.name} are not set by flexnode yet`);
    const got = await read(want.name);
    if (got.unreachable) return ok(`labels recorded; ${got.unreachable}: not checked`);
    if (!got.node) return drifted(`reading Node ${want.name} answered ${statusMessage(got.answer!)}`);
    const diff = differences(got.node, want);
    if (diff.conflict) return drifted(diff.conflict);
    if (diff.reasons.length) return drifted(`Node ${want.name}: ${diff.reasons.join('; ')}`);
    return ok(`Node ${want.name}: ${Object.keys(want.labels).length} labels${want.podCIDR ? `, pod range ${want.podCIDR}` : ''}`);
  };

  return {
    check,
    async install() {
      if ((await check()).status === 'ok') return;
      const want = await wanted();
      // A taint change sends the whole list: with the Node's resourceVersion as a precondition, so that a taint the
      // node lifecycle controller added or removed since the read is not undone (409: read again and redo).
      for (let attempt = 1; !host.dryRun; attempt++) {
        const got = await read(want.name);
        if (!got.node) throw new StepError('kube.node', `Node ${want.name} cannot be read: ${got.unreachable ?? statusMessage(got.answer!)}`);
        const diff = differences(got.node, want);
        if (diff.conflict) {
          throw new StepError('kube.node', diff.conflict, {
            hint: `remove cni.podCIDR (the bridge then takes the cluster's range), or delete the Node and give it ${want.podCIDR} before the kubelet registers: this cluster allocates pod ranges to its Nodes`,
          });
        }
        if ((diff.patch.spec as { podCIDR?: string } | undefined)?.podCIDR) {
          // cni.podCIDR goes on the Node only if no other Node holds it (kube.network could not check when the
          // operator may not read Nodes). A node certificate reads only its own Node: the operator lists them.
          const lister =
            kubeletAuth(config) === 'bootstrap-token'
              ? (
                  await OperatorKube.connect(azure, want.facts, `kube.node (checking cni.podCIDR against the other Nodes' ranges)`, options.operatorClient)
                ).nodes()
              : (await nodeClient(host, config, identity, options.nodesApi))!.api;
          const list = await lister.list();
          if (list.status !== 200) throw new StepError('kube.node', `listing Nodes to check cni.podCIDR answered ${statusMessage(list)}`);
          planPodRange({ config, cluster: clusterRanges(want.facts), nodeName: want.name, others: rangesOf(list.body, want.name).others, needed: true });
        }
        let version = resourceVersionOf(got.node);
        const withVersion = (patch: Record<string, unknown>) => ({
          ...patch,
          metadata: { ...((patch.metadata as object | undefined) ?? {}), ...(version ? { resourceVersion: version } : {}) },
        });
        // A node's own credential may not change its taints in bootstrap-token mode (NodeRestriction: a
        // system:node user "is not allowed to modify taints"): there the operator patches them.
        const byOperator = diff.taints !== undefined && kubeletAuth(config) === 'bootstrap-token';
        const nodePatch =
          diff.taints && !byOperator ? withVersion({ ...diff.patch, spec: { ...(diff.patch.spec as object | undefined), taints: diff.taints } }) : diff.patch;
        if (Object.keys(nodePatch).length) {
          const c = (await nodeClient(host, config, identity, options.nodesApi))!;
          const patch = () => c.api.patch(want.name, nodePatch);
          // Waited out only on the first join (no record yet): later, a denial is a role taken away.
          const answer =
            kubeletAuth(config) === 'bootstrap-token' || findRecord<NodeLabelsRecord>(host, NODE_LABELS_RECORD)
              ? await patch()
              : await whileDenied(`patching Node ${want.name}`, patch, {
                  seconds: kubeSettings(config).rbacPropagationSeconds,
                  pollMs: DENIED_POLL_MS,
                  log: host.log,
                });
          if (answer.status === 409 && attempt < CONFLICT_ATTEMPTS) continue;
          if (answer.status !== 200) {
            throw new StepError(
              'kube.node',
              `patching Node ${want.name} answered ${statusMessage(answer)}`,
              answer.status === 403 ? { hint: 'the node identity needs to update Nodes (its role assignments on the cluster)' } : {},
            );
          }
          version = resourceVersionOf(answer.body) ?? version;
        }
        if (byOperator) {
          const operator = await OperatorKube.connect(azure, want.facts, `kube.node (setting node.taints on Node ${want.name})`, options.operatorClient);
          const answer = await operator.nodes().patch(want.name, withVersion({ spec: { taints: diff.taints } }));
          if (answer.status === 409 && attempt < CONFLICT_ATTEMPTS) continue;
          if (answer.status !== 200) throw new StepError('kube.node', `patching the taints of Node ${want.name} answered ${statusMessage(answer)}`);
        }
        if (diff.reasons.length) host.log.info(`Node ${want.name}: ${diff.reasons.join('; ')}: patched`);
        break;
      }
      await replaceRecord(host, NODE_LABELS_RECORD, {
        node: want.name,
        labels: Object.keys(want.labels).sort(),
        taints: want.taints.map(taintId).sort(),
      } satisfies NodeLabelsRecord);
      await rememberFacts(host, want.facts);
    },
    async uninstall() {
      await host.changes.revert();
      await host.changes.forget(NODE_LABELS_RECORD);
      await host.changes.forget(FACTS_RECORD);
    },
  };
}
