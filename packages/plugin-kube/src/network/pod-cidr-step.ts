import {
  ConfigError,
  drifted,
  findRecord,
  missing,
  ok,
  replaceRecord,
  StepError,
  type AzureContext,
  type CheckResult,
  type CniService,
  type FlexnodeConfig,
  type Host,
  type NodeIdentity,
  type ServiceProxyService,
  type StepInstance,
} from '@flexnode/sdk';
import { kubeletAuth } from '../auth.js';
import { defaultClusterReader, type ClusterFacts, type ClusterReader } from '../cluster/cluster.js';
import { OPERATOR_KUBE_ROLE, OperatorKube } from '../cluster/operator-kube.js';
import { clusterFacts, FACTS_RECORD, recordedFacts, rememberFacts } from '../cluster/recorded.js';
import { isUnreachable, type ApiAnswer, type KubeClient, type NodeApiOptions } from '../kubelet/api.js';
import { deleteNodeObject, NO_NODE_CERTIFICATE, nodeClient, type NodesClient } from '../kubelet/node-access.js';
import { nodeName } from '../kubelet/step.js';
import { DENIED_POLL_MS, whileDenied } from '../cluster/rbac-propagation.js';
import { kubeSettings } from '../settings.js';
import { messageOf } from '../util.js';
import { podCIDRsOf, rangesOf, statusMessage, type NodesApi } from './nodes.js';
import { checkAllocatedRange, describePlan, maxPodsOf, planPodRange, poolShareFor } from './pod-range.js';
import { clusterNetwork, clusterRanges, nodeObject, registrationLabels, registrationTaints } from './registration.js';

/** Custom record: the Node this step registered (or found) and its pod range. */
export const POD_CIDR_RECORD = 'node-pod-cidr';

interface PodCidrRecord {
  node: string;
  /** The Node's uid, when this step created it (uninstall deletes only that Node). */
  createdUid?: string;
  cidrs: string[];
  source: string;
  /** cni.podCIDRPool when the range came from it (a changed pool is a new decision). */
  pool?: unknown;
}

export interface PodCidrStepOptions {
  readCluster?: ClusterReader;
  /** The Nodes API of the node's identity; tests inject a fake. */
  nodesApi?: (options: NodeApiOptions) => NodesApi;
  /** The operator's client (bootstrap-token mode's registration, deletions the node may not make); tests inject a fake. */
  operatorClient?: (options: NodeApiOptions) => KubeClient;
  sleep?: (ms: number) => Promise<void>;
  /** Interval of the wait for the cluster's allocation. Default 1 s. */
  pollMs?: number;
}

/** How many times a share of the pool is taken again after losing it to a Node that joined at the same moment. */
const POOL_ATTEMPTS = 5;

const creationOf = (node: Record<string, unknown>) => String((node.metadata as { creationTimestamp?: string } | undefined)?.creationTimestamp ?? '');

/** What `kube.pod-cidr` (steps.ts) is given. */
export interface PodCidrDeps {
  host: Host;
  config: FlexnodeConfig;
  azure: AzureContext;
  identity: NodeIdentity;
  cni: CniService;
  proxy: ServiceProxyService;
}

/**
 * The operations of `kube.pod-cidr` (steps.ts): the Node registered with its range (a share of `cni.podCIDRPool`),
 * or given one by the cluster and checked; uninstall deletes the Node only if this step created it.
 */
export function podCidrOps({ host, config, azure, identity, cni, proxy }: PodCidrDeps, options: PodCidrStepOptions = {}): StepInstance {
  const readCluster = options.readCluster ?? defaultClusterReader;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const pollMs = options.pollMs ?? 1000;

  const needed = cni.usesNodePodCIDR === true;
  const bootstrap = kubeletAuth(config) === 'bootstrap-token';
  /** The node's own client: checks, and the registration in arc-msi mode. */
  const own = async (): Promise<NodesClient> => {
    const c = await nodeClient(host, config, identity, options.nodesApi);
    if (!c)
      throw new StepError(
        'kube.pod-cidr',
        bootstrap
          ? 'the bootstrap kubeconfig is missing: kube.node-bootstrap has not run'
          : 'the kubelet kubeconfig is missing: kube.cluster-credentials has not run',
      );
    return c;
  };
  /** Who registers the Node (see above), and what to grant when it may not. */
  const registrar = async (facts: ClusterFacts, name: string): Promise<NodesClient & { hint: string }> => {
    if (!bootstrap) return { ...(await own()), hint: 'the node identity needs to read, create and update Nodes (its role assignments on the cluster)' };
    const kube = await OperatorKube.connect(azure, facts, `kube.pod-cidr (registering Node ${name} before the kubelet)`, options.operatorClient);
    return { api: kube.nodes(), server: facts.server, hint: `${kube.who} needs to list and create Nodes: grant it "${OPERATOR_KUBE_ROLE}" on the cluster` };
  };
  const call = async <T>(c: NodesClient, what: string, run: (api: NodesApi) => Promise<T>): Promise<T> => {
    try {
      // The node identity's grants may not have reached the cluster yet (arc-msi); the operator's were there before.
      // Only on the first join (nothing recorded yet): later, a denial is a role taken away.
      if (bootstrap || findRecord<PodCidrRecord>(host, POD_CIDR_RECORD)) return await run(c.api);
      return await whileDenied(what, () => run(c.api), {
        seconds: kubeSettings(config).rbacPropagationSeconds,
        pollMs: options.pollMs ?? DENIED_POLL_MS,
        log: host.log,
        sleep,
      });
    } catch (error) {
      if (isUnreachable(error)) throw new StepError('kube.pod-cidr', `${what}: the API server ${c.server} does not answer (${messageOf(error)})`);
      throw error;
    }
  };
  const expectOk = (answer: ApiAnswer, what: string, hint: string, also: number[] = []) => {
    if (answer.status >= 200 && answer.status < 300) return answer.body;
    if (also.includes(answer.status)) return undefined;
    throw new StepError('kube.pod-cidr', `${what} answered ${statusMessage(answer)}`, answer.status === 401 || answer.status === 403 ? { hint } : {});
  };

  const check = async (): Promise<CheckResult> => {
    const record = findRecord<PodCidrRecord>(host, POD_CIDR_RECORD);
    if (!needed) return ok("the node's network takes no pod addresses from a node range");
    if (!record) return missing("this node's pod range is not decided yet");
    if (record.node !== (await nodeName(host, config))) return missing(`the node name changed since Node ${record.node} was registered`);
    if (record.source === 'pool' && JSON.stringify(record.pool) !== JSON.stringify(config.cni?.podCIDRPool ?? null)) return missing('cni.podCIDRPool changed');
    let answer: ApiAnswer;
    try {
      answer = await (await own()).api.get(record.node);
    } catch (error) {
      if (isUnreachable(error) || error instanceof StepError) return ok(`${record.cidrs.join(', ')} (recorded; the API server does not answer, not checked)`);
      if ((error as { code?: string }).code === NO_NODE_CERTIFICATE) return ok(`${record.cidrs.join(', ')} (recorded; not checked: ${messageOf(error)})`);
      throw error;
    }
    if (answer.status === 404) return missing(`Node ${record.node} is not registered`);
    if (answer.status !== 200) return ok(`${record.cidrs.join(', ')} (recorded; reading Node ${record.node} answered ${statusMessage(answer)})`);
    const live = podCIDRsOf(answer.body);
    if (live.join(',') !== record.cidrs.join(','))
      return drifted(`Node ${record.node} has the pod range ${live.join(', ') || '(none)'}, ${record.cidrs.join(', ')} was recorded`);
    return ok(`${live.join(', ')} (${record.source === 'pool' ? 'cni.podCIDRPool' : record.source === 'cluster' ? 'allocated by the cluster' : "the Node's"})`);
  };

  /** Register the Node with `cidrs` (none: the cluster allocates); undefined when it exists already. */
  const register = async (c: NodesClient & { hint: string }, name: string, cidrs: readonly string[], labels: Record<string, string>) => {
    const answer = await call(c, `registering Node ${name}`, (api) => api.create(nodeObject(name, host.arch, labels, registrationTaints(config), cidrs)));
    const body = expectOk(answer, `registering Node ${name}`, c.hint, [409]);
    if (body) host.log.info(`registered Node ${name}${cidrs.length ? ` with the pod range ${cidrs.join(', ')}` : ''} (the kubelet adopts it)`);
    return body;
  };

  return {
    check,
    async install() {
      if ((await check()).status === 'ok') return;
      if (host.dryRun) {
        host.log.info('would register the Node with its pod range before the kubelet starts (from the cluster or cni.podCIDRPool)');
        return;
      }
      const settings = kubeSettings(config);
      const facts = await clusterFacts(host, config, azure, readCluster, 'kube.pod-cidr');
      const cluster = clusterRanges(facts);
      const name = await nodeName(host, config);
      const labels = registrationLabels(config, settings, proxy.plan(clusterNetwork(facts)));
      await rememberFacts(host, facts); // uninstall may need the operator (deleting the Node), with the cluster's facts
      const c = await registrar(facts, name);
      const listAll = async () => expectOk(await call(c, 'listing Nodes', (api) => api.list()), 'listing Nodes', c.hint)!;
      const list = async () => rangesOf(await listAll(), name);

      let createdUid = findRecord<PodCidrRecord>(host, POD_CIDR_RECORD)?.createdUid;
      let nodes = await list();
      let plan = planPodRange({ config, cluster, nodeName: name, others: nodes.others, ...(nodes.self ? { self: nodes.self } : {}), needed });
      const source = plan.source === 'node' ? (findRecord<PodCidrRecord>(host, POD_CIDR_RECORD)?.source ?? 'node') : plan.source;
      if (plan.source === 'pool') {
        for (let attempt = 1; plan.source === 'pool'; attempt++) {
          const created = await register(c, name, plan.cidrs, labels);
          if (created) createdUid = String((created.metadata as { uid?: string }).uid ?? '');
          await replaceRecord(host, POD_CIDR_RECORD, {
            node: name,
            ...(createdUid ? { createdUid } : {}),
            cidrs: plan.cidrs,
            source: 'pool',
            pool: config.cni?.podCIDRPool ?? null,
          } satisfies PodCidrRecord);
          // Two nodes that listed the Nodes at the same moment may take the same share: the younger gives it up.
          const again = await listAll();
          const items = (again.items ?? []) as Record<string, unknown>[];
          const mine = items.find((n) => (n.metadata as { name?: string }).name === name);
          const rival =
            mine &&
            items.find((n) => {
              const other = (n.metadata as { name?: string }).name!;
              return (
                other !== name &&
                podCIDRsOf(n).some((c) => podCIDRsOf(mine).includes(c)) &&
                (creationOf(n) < creationOf(mine) || (creationOf(n) === creationOf(mine) && other < name))
              );
            });
          if (!rival) break;
          if (!created || attempt >= POOL_ATTEMPTS) {
            throw new StepError(
              'kube.pod-cidr',
              `Node ${name} holds the pod range ${podCIDRsOf(mine).join(', ')}, which Node ${String((rival.metadata as { name?: string }).name)} holds too`,
              {
                hint: 'delete one of the two Nodes (flexnode unbootstrap on that machine) and bootstrap it again',
              },
            );
          }
          host.log.warn(
            `Node ${String((rival.metadata as { name?: string }).name)} took the pod range ${plan.cidrs.join(', ')} at the same moment: taking another share`,
          );
          const given = await deleteNodeObject({
            host,
            name,
            uid: createdUid,
            purpose: 'kube.pod-cidr (giving up a pod range another Node took)',
            nodeClient: bootstrap ? undefined : c,
            facts,
            azure,
            operatorClient: options.operatorClient,
          });
          if (given === 'kept')
            throw new StepError(
              'kube.pod-cidr',
              `Node ${name} must give up the pod range ${plan.cidrs.join(', ')} to Node ${String((rival.metadata as { name?: string }).name)}, and could not be deleted`,
            );
          createdUid = undefined;
          nodes = await list();
          const next = poolShareFor(config, name, cluster, nodes.others);
          if (!next)
            plan = planPodRange({ config, cluster, nodeName: name, others: nodes.others, needed }); // throws: the pool is full
          else plan = { ...plan, cidrs: [next] };
        }
      } else if (plan.source === 'cluster') {
        const created = await register(c, name, [], labels);
        if (created) createdUid = String((created.metadata as { uid?: string }).uid ?? '');
        await replaceRecord(host, POD_CIDR_RECORD, {
          node: name,
          ...(createdUid ? { createdUid } : {}),
          cidrs: [],
          source: 'cluster',
        } satisfies PodCidrRecord);
        const deadline = Date.now() + settings.podCIDRTimeoutSeconds * 1000;
        let cidrs: string[];
        for (;;) {
          cidrs = podCIDRsOf(expectOk(await call(c, `reading Node ${name}`, (api) => api.get(name)), `reading Node ${name}`, c.hint));
          if (cidrs.length > 0 || Date.now() >= deadline) break;
          await sleep(pollMs);
        }
        if (cidrs.length === 0) {
          throw new StepError(
            'kube.pod-cidr',
            `nothing in the cluster gave Node ${name} a pod range (spec.podCIDR) within ${settings.podCIDRTimeoutSeconds} s: ${describePlan(plan)}`,
            {
              hint: 'this cluster allocates no pod range to its Nodes: set cni.podCIDR or cni.podCIDRPool (or raise pluginConfig["@flexnode/plugin-kube"].podCIDRTimeoutSeconds)',
            },
          );
        }
        checkAllocatedRange(cidrs, name, cluster, (await list()).others, maxPodsOf(config));
        plan = { source: 'node', cidrs };
      } else if (plan.source === 'config') {
        throw new ConfigError('cni.podCIDR is set: kube.pod-cidr does not apply', [{ path: 'cni.podCIDR', message: 'unexpected' }]);
      }
      const cidrs = 'cidrs' in plan ? plan.cidrs : [];
      if (plan.source !== 'none') host.log.info(`pod range of ${name}: ${cidrs.join(', ')}`);
      await replaceRecord(host, POD_CIDR_RECORD, {
        node: name,
        ...(createdUid ? { createdUid } : {}),
        cidrs,
        source,
        ...(source === 'pool' ? { pool: config.cni?.podCIDRPool ?? null } : {}),
      } satisfies PodCidrRecord);
    },
    async uninstall() {
      const record = findRecord<PodCidrRecord>(host, POD_CIDR_RECORD);
      if (record?.createdUid) {
        // bootstrap-token mode: the kubelet step removed the node's certificate already; the operator looks.
        const own = bootstrap ? undefined : await nodeClient(host, config, identity, options.nodesApi);
        await deleteNodeObject({
          host,
          name: record.node,
          uid: record.createdUid,
          purpose: 'unbootstrap of kube.pod-cidr',
          nodeClient: own,
          facts: recordedFacts(host, config),
          azure,
          operatorClient: options.operatorClient,
        });
      }
      await host.changes.revert();
      await host.changes.forget(POD_CIDR_RECORD);
      await host.changes.forget(FACTS_RECORD);
    },
  };
}
