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
import { kubeSettings } from '../settings.js';
import { messageOf } from '../util.js';
import { parseCidr } from './cidr.js';
import { podCIDRsOf, rangesOf, statusMessage, type NodesApi } from './nodes.js';
import { planPodRange } from './pod-range.js';
import { clusterNetwork, clusterRanges, registrationLabels } from './registration.js';

/** Custom record: the labels flexnode set on its Node (a label no longer wanted is removed again). */
export const NODE_LABELS_RECORD = 'node-labels';

interface NodeLabelsRecord {
  node: string;
  labels: string[];
}

/** What the Node should carry: flexnode's labels, and the configured pod range. */
interface Wanted {
  name: string;
  labels: Record<string, string>;
  /** Labels flexnode set before that it no longer wants (removed). */
  stale: string[];
  podCIDR?: string;
}

/** How the Node differs from what is wanted; empty when it matches. */
function differences(node: Record<string, unknown>, want: Wanted): { patch: Record<string, unknown>; reasons: string[]; conflict?: string } {
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
  return { patch, reasons, ...(conflict ? { conflict } : {}) };
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
    const podCIDR = config.cni?.podCIDR !== undefined ? (parseCidr(config.cni.podCIDR)?.text ?? config.cni.podCIDR) : undefined;
    return { facts, name, labels, stale, ...(podCIDR ? { podCIDR } : {}) };
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
      if (!host.dryRun) {
        const got = await read(want.name);
        if (!got.node) throw new StepError('kube.node', `Node ${want.name} cannot be read: ${got.unreachable ?? statusMessage(got.answer!)}`);
        const diff = differences(got.node, want);
        if (diff.conflict) {
          throw new StepError('kube.node', diff.conflict, {
            hint: `remove cni.podCIDR (the bridge then takes the cluster's range), or delete the Node and give it ${want.podCIDR} before the kubelet registers: this cluster allocates pod ranges to its Nodes`,
          });
        }
        if (Object.keys(diff.patch).length) {
          const c = (await nodeClient(host, config, identity, options.nodesApi))!;
          if ((diff.patch.spec as { podCIDR?: string } | undefined)?.podCIDR) {
            // cni.podCIDR goes on the Node only if no other Node holds it (kube.network could not check when the
            // operator may not read Nodes). A node certificate reads only its own Node: the operator lists them.
            const lister =
              kubeletAuth(config) === 'bootstrap-token'
                ? (
                    await OperatorKube.connect(azure, want.facts, `kube.node (checking cni.podCIDR against the other Nodes' ranges)`, options.operatorClient)
                  ).nodes()
                : c.api;
            const list = await lister.list();
            if (list.status !== 200) throw new StepError('kube.node', `listing Nodes to check cni.podCIDR answered ${statusMessage(list)}`);
            planPodRange({ config, cluster: clusterRanges(want.facts), nodeName: want.name, others: rangesOf(list.body, want.name).others, needed: true });
          }
          const answer = await c.api.patch(want.name, diff.patch);
          if (answer.status !== 200) {
            throw new StepError(
              'kube.node',
              `patching Node ${want.name} answered ${statusMessage(answer)}`,
              answer.status === 403 ? { hint: 'the node identity needs to update Nodes (its role assignments on the cluster)' } : {},
            );
          }
          host.log.info(`Node ${want.name}: ${diff.reasons.join('; ')}: patched`);
        }
      }
      await replaceRecord(host, NODE_LABELS_RECORD, { node: want.name, labels: Object.keys(want.labels).sort() } satisfies NodeLabelsRecord);
      await rememberFacts(host, want.facts);
    },
    async uninstall() {
      await host.changes.revert();
      await host.changes.forget(NODE_LABELS_RECORD);
      await host.changes.forget(FACTS_RECORD);
    },
  };
}
