import {
  canonicalJson,
  ConfigError,
  findRecord,
  FlexnodeError,
  missing,
  ok,
  replaceRecord,
  type AzureContext,
  type CheckResult,
  type CniService,
  type FlexnodeConfig,
  type Host,
  type ServiceProxyService,
  type StepInstance,
} from '@flexnode/sdk';
import { AKS_SCOPE, assertAzureRbac, defaultClusterReader, type ClusterFacts, type ClusterReader } from '../cluster/cluster.js';
import { clusterFacts, FACTS_RECORD, rememberFacts } from '../cluster/recorded.js';
import { hasArcIdentity, kubeletAuth } from '../auth.js';
import { isUnreachable, type NodeApiOptions } from '../kubelet/api.js';
import { routeSourceAddress } from '../kubelet/machine.js';
import { nodeName } from '../kubelet/step.js';
import { effectiveProxy } from '../preflight/probe.js';
import { kubeSettings, PLUGIN_NAME } from '../settings.js';
import { messageOf } from '../util.js';
import { callbackNote, probeApiServer, type ApiServerProbe } from './api-server.js';
import { httpsNodesApi, rangesOf, statusMessage, type NodesApi } from './nodes.js';
import { checkPlanRoom, describePlan, maxPodsOf, planPodRange, type PodRangePlan } from './pod-range.js';
import { clusterNetwork, clusterRanges } from './registration.js';
import { decideProxyMode, runsKubeProxy } from './service-proxy.js';

/** Custom record: what kube.network decided, and from which inputs (the check compares them; no network needed). */
export const NETWORK_RECORD = 'cluster-network';

interface NetworkRecord {
  inputs: string;
  serviceProxy: string;
  podRange: PodRangePlan;
  apiServer: string;
}

/** What the decisions depend on besides the cluster: a change of any of these is a new decision. */
const inputsOf = async (host: Host, config: FlexnodeConfig, needed: boolean) =>
  canonicalJson({
    cluster: config.azure?.targetCluster?.resourceId?.toLowerCase() ?? '',
    node: await nodeName(host, config),
    serviceProxy: config.kubernetes?.serviceProxy ?? 'auto',
    podCIDR: config.cni?.podCIDR ?? null,
    podCIDRPool: config.cni?.podCIDRPool ?? null,
    needed,
  });

export interface NetworkStepOptions {
  readCluster?: ClusterReader;
  /** The Kubernetes API client for the Node list; tests inject a fake. */
  nodesApi?: (options: NodeApiOptions) => NodesApi;
  /** How the API server is reached; tests inject one. */
  probe?: ApiServerProbe;
  /** The node's address towards the API server, for the logs/exec note. */
  routeSource?: (server: string) => Promise<string | undefined>;
}

/** What `kube.network` (steps.ts) is given. */
export interface NetworkDeps {
  host: Host;
  config: FlexnodeConfig;
  azure: AzureContext;
  cni: CniService;
  proxy: ServiceProxyService;
}

/**
 * The operations of `kube.network` (steps.ts): the API server reached, the service proxy and the node's pod range
 * decided (and checked against the other Nodes') before anything changes; the decisions recorded.
 */
export function networkOps({ host, config, azure, cni, proxy }: NetworkDeps, options: NetworkStepOptions = {}): StepInstance {
  const readCluster = options.readCluster ?? defaultClusterReader;
  const makeApi = options.nodesApi ?? httpsNodesApi;
  const probe = options.probe ?? probeApiServer;
  const routeSource = options.routeSource ?? routeSourceAddress;

  /** The Nodes, listed with the operator's token: undefined (and why) when it cannot. */
  const listNodes = async (facts: ClusterFacts, azure: AzureContext | undefined, name: string, host: Host) => {
    if (!azure) return { why: 'no operator credential' };
    try {
      const api = makeApi({
        server: facts.server,
        caPem: facts.caPem,
        credential: async () => ({ token: (await azure.credential.getToken(AKS_SCOPE))?.token ?? '' }),
      });
      const answer = await api.list();
      if (answer.status !== 200) return { why: `the operator credential may not list Nodes (${statusMessage(answer)})` };
      return rangesOf(answer.body, name);
    } catch (error) {
      if (isUnreachable(error)) return { why: `the API server did not answer (${messageOf(error)})` };
      host.log.debug(`listing Nodes with the operator credential failed: ${messageOf(error)}`);
      return { why: `listing Nodes failed (${messageOf(error)})` };
    }
  };

  const needed = cni.usesNodePodCIDR === true;
  const check = async (): Promise<CheckResult> => {
    const record = findRecord<NetworkRecord>(host, NETWORK_RECORD);
    if (!record) return missing('the cluster network is not checked yet');
    if (record.inputs !== (await inputsOf(host, config, needed))) return missing("the config's network settings changed since they were checked");
    // node.maxPods is not among the inputs (a change must not need the operator's credential to re-plan): checked
    // against the recorded range here, a ConfigError (exit 2) before anything changes.
    checkPlanRoom(record.podRange, maxPodsOf(config));
    return ok(`Services: ${record.serviceProxy}; pod range: ${describePlan(record.podRange)}; ${record.apiServer}`);
  };
  return {
    check,
    async install() {
      if ((await check()).status === 'ok') return;
      const settings = kubeSettings(config);
      const facts = await clusterFacts(host, config, azure, readCluster, 'kube.network');

      let apiServer = 'API server reachability not checked (skipPreflight)';
      if (!settings.skipPreflight.includes('api-server') && !settings.skipPreflight.includes('all')) {
        const reach = await probe(facts, effectiveProxy(config.proxy));
        if (!reach.ok) {
          throw new FlexnodeError('PREFLIGHT_FAILED', `the API server is not reachable from this machine: ${reach.detail}\n    fix: ${reach.fix ?? '-'}`, {
            hint: `the kubelet cannot join without it; to go on anyway: "pluginConfig": {"${PLUGIN_NAME}": {"skipPreflight": ["api-server"]}}`,
          });
        }
        apiServer = reach.detail;
        host.log.info(reach.detail);
      }
      host.log.info(callbackNote(settings.nodeIP ?? (await routeSource(facts.server).catch(() => undefined))));

      // The provider's plan: a mode the cluster cannot honour throws a ConfigError here (exit 2).
      const plan = proxy.plan(clusterNetwork(facts));
      host.log.info(`Services on this node: ${plan.implementedBy}`);
      // bootstrap-token mode: flexnode's kube-proxy keeps the Arc identity as its credential (the kubelet's certificate
      // never gains system:node-proxier's cluster-wide reads), which only Azure RBAC authorizes.
      if (kubeletAuth(config) === 'bootstrap-token' && runsKubeProxy(config, clusterNetwork(facts))) {
        assertAzureRbac(
          facts,
          settings.requireAzureRbac,
          (m) => host.log.warn(m),
          'kube-proxy, which flexnode runs with the Arc identity, cannot read Services',
        );
      }
      if (!hasArcIdentity(config) && runsKubeProxy(config, clusterNetwork(facts))) {
        throw new ConfigError(
          `flexnode runs kube-proxy on this cluster (${decideProxyMode(config, clusterNetwork(facts)).why}), and kube-proxy authenticates with the Arc identity, which azure.arc.enabled false leaves out`,
          [{ path: 'azure.arc.enabled', message: 'kube-proxy run by flexnode needs the Arc identity' }],
          'enable Arc, or let something else serve Services: kubernetes.serviceProxy "none" with a kube-proxy replacement in the cluster, or "aks" where the cluster allows it',
        );
      }

      const name = await nodeName(host, config);
      const lister = kubeletAuth(config) === 'bootstrap-token' ? "the operator's credential" : "the node's identity";
      const listed = needed ? await listNodes(facts, azure, name, host) : { why: 'not needed' };
      const nodes = 'why' in listed ? undefined : listed;
      const podRange = planPodRange({
        config,
        cluster: clusterRanges(facts),
        nodeName: name,
        others: nodes?.others,
        ...(nodes?.self ? { self: nodes.self } : {}),
        needed,
      });
      // A range flexnode chooses (cni.podCIDR, the pool) must be checked against the other Nodes before anything changes.
      if (!nodes && (podRange.source === 'config' || podRange.source === 'pool')) {
        const why = 'why' in listed ? listed.why : '';
        const later = podRange.source === 'pool' ? 'kube.pod-cidr (before it registers the Node)' : 'kube.node (after the kubelet started)';
        if (!settings.skipPreflight.includes('node-ranges') && !settings.skipPreflight.includes('all')) {
          throw new FlexnodeError(
            'PREFLIGHT_FAILED',
            `the other Nodes' pod ranges cannot be read before the join (${why}): ${describePlan(podRange)} is not checked against them`,
            {
              hint: `let the operator's identity read Nodes (Microsoft.ContainerService/managedClusters/nodes/read: Azure Kubernetes Service RBAC Admin or Cluster Admin have it, RBAC Reader does not), or skip this check with "pluginConfig": {"${PLUGIN_NAME}": {"skipPreflight": ["node-ranges"]}} (${later} checks with ${lister})`,
            },
          );
        }
        host.log.warn(`the other Nodes' pod ranges were not read (${why}): ${later} checks them with ${lister}`);
      }
      host.log.info(`pod range of ${name}: ${describePlan(podRange)}`);

      await rememberFacts(host, facts);
      const record: NetworkRecord = { inputs: await inputsOf(host, config, needed), serviceProxy: plan.implementedBy, podRange, apiServer };
      await replaceRecord(host, NETWORK_RECORD, record);
    },
    async uninstall() {
      await host.changes.revert();
      await host.changes.forget(NETWORK_RECORD);
      await host.changes.forget(FACTS_RECORD);
    },
  };
}
