import { messageOf } from '../util.js';
import { isAuthorizationDenial } from '../cluster/rbac-propagation.js';
import os from 'node:os';
import {
  ConfigError,
  drifted,
  missing,
  ok,
  StepError,
  type CheckResult,
  type CniService,
  type ContainerRuntimeService,
  type FlexnodeConfig,
  type Host,
  type NodeIdentity,
  type AzureContext,
  type RunContext,
  type ServiceProxyService,
  type StepInstance,
  findRecord,
  replaceRecord,
  proxyEnvironment,
  runServiceWith,
  serviceInputsChanged,
} from '@flexnode/sdk';
import { kubernetesVersion } from '../binaries/step.js';
import { kubeletAuth } from '../auth.js';
import { defaultClusterReader, type ClusterReader } from '../cluster/cluster.js';
import { clusterFacts, FACTS_RECORD, recordedFacts, rememberFacts } from '../cluster/recorded.js';
import { kubeVersionOf } from '../binaries/artifacts.js';
import { KUBELET_UNIT, kubePaths } from '../paths.js';
import { kubeSettings } from '../settings.js';
import { isUnreachable, readyCondition, type KubeClient, type NodeApiOptions } from './api.js';
import { deleteNodeObject, NO_NODE_CERTIFICATE, nodeClient, removeKubeletCredentials } from './node-access.js';
import { clusterNetwork, registrationLabels } from '../network/registration.js';
import { httpsKubeApi, type KubeApiFactory } from '../maintenance/api.js';
import { maintenanceClients } from '../maintenance/clients.js';
import { cordonState, uncordon, type CordonState } from '../maintenance/cordon.js';
import { KUBELET_STATE_RECORD, recordKubeletState } from '../teardown/kubelet-state.js';
import { reportLeftovers, TEARDOWN_RECORD, teardownNode, teardownUnderWay } from '../teardown/sequence.js';
import { rememberAnswer, silenceOf } from './reachability.js';
import { nodeLabels, nodeTaints, renderKubeletConfig, RESOLVED_RESOLV_CONF, type MachineSize } from './config.js';
import { machineSize, routeSourceAddress } from './machine.js';
import { kubeletArgs, kubeletDropIn, kubeletEnvironmentFile, kubeletUnit } from './unit.js';

/** Custom record: the sha256 of what the running kubelet was (re)started with; a change needs a restart. */
export const STARTED_RECORD = 'kubelet-started';
/** Custom record: the Node this step registered (deleted again on uninstall). */
export const NODE_RECORD = 'kubelet-node';
/** Custom record: the kubelet version and node IP the files were written for (the check needs no network). */
export const INPUTS_RECORD = 'kubelet-inputs';
/** Custom record (bootstrap-token mode): the kubelet's own credentials did not exist before flexnode started it. */
export const CREDENTIALS_RECORD = 'kubelet-credentials';

interface KubeletInputs {
  version: string;
  nodeIP?: string;
}

export interface KubeletStepOptions {
  readCluster?: ClusterReader;
  /** The Kubernetes API client (the node's own calls, and the drain's); tests inject a fake. */
  nodeApi?: KubeApiFactory;
  /** The operator's Kubernetes client (deleting the Node on unbootstrap); tests inject a fake. */
  operatorClient?: (options: NodeApiOptions) => KubeClient;
  sleep?: (ms: number) => Promise<void>;
  /** Longest interval of the wait for Ready (it starts at 100 ms and doubles up to this). Default 2 s. */
  pollMs?: number;
  /** The machine's size (kube-reserved); tests inject one. */
  machine?: (host: Host) => Promise<MachineSize>;
  /** The source address of the route to the API server (`--node-ip`); tests inject one. */
  routeSource?: (server: string) => Promise<string | undefined>;
  /** The clock of the API server's grace period; tests inject one. */
  now?: () => Date;
}

type NodeState =
  | { kind: 'ready'; detail: string; cordon: CordonState }
  | { kind: 'unreachable'; detail: string; server: string }
  | { kind: 'not-ready'; detail: string; cordon?: CordonState; /** The node identity was refused (HTTP 403). */ denied?: boolean };

/** The first wait for Ready after the kubelet starts. */
const FIRST_POLL_MS = 100;

const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** `node.name`, else the machine's hostname (lowercased, as the kubelet does). */
export async function nodeName(host: Host, config: FlexnodeConfig): Promise<string> {
  if (config.node?.name) return config.node.name;
  const name = ((await host.files.readText('/etc/hostname'))?.trim() || os.hostname()).toLowerCase();
  if (!DNS_NAME.test(name) || name.length > 253) {
    throw new ConfigError(`the hostname "${name}" is not a valid Node name: set node.name`, [{ path: 'node.name', message: 'a DNS subdomain name' }]);
  }
  return name;
}

/** What `kube.kubelet` (steps.ts) is given. */
export interface KubeletDeps {
  host: Host;
  config: FlexnodeConfig;
  azure: AzureContext;
  identity: NodeIdentity;
  runtime: ContainerRuntimeService;
  proxy: ServiceProxyService;
  cni: CniService;
  run: RunContext;
}

/**
 * The operations of `kube.kubelet` (steps.ts): its files and unit, the Node Ready; uninstall takes the node out
 * ({@link teardownNode}).
 */
export function kubeletOps({ host, config, azure, identity, runtime, proxy, cni, run }: KubeletDeps, options: KubeletStepOptions = {}): StepInstance {
  const readCluster = options.readCluster ?? defaultClusterReader;
  const makeApi = options.nodeApi ?? httpsKubeApi;
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const pollMs = options.pollMs ?? 2000;
  const sizeOf = options.machine ?? machineSize;
  const routeSource = options.routeSource ?? routeSourceAddress;

  const paths = kubePaths(config);
  const settings = kubeSettings(config);
  const tlsBootstrap = kubeletAuth(config) === 'bootstrap-token';
  // Config the API server would refuse on the Node, told as the step loads: config validate says it, and bootstrap
  // refuses it before anything changes (not at this step, after the runtime is in place).
  const nodeIssues = [nodeLabels, nodeTaints].flatMap((read) => {
    try {
      read(config);
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return [{ message: error.message, issues: error.issues }];
      throw error;
    }
  });
  if (nodeIssues.length) {
    throw new ConfigError(
      nodeIssues.map((i) => i.message).join('; '),
      nodeIssues.flatMap((i) => i.issues),
    );
  }

  /**
   * The files for the cluster's facts, the kubelet version and the node IP. From the journal when this step
   * recorded them (check, status and heals need neither Azure nor the network); `fresh` (install) looks the
   * node IP up again, since the route to the API server may have moved.
   */
  const expected = async (fresh: boolean) => {
    const facts = await clusterFacts(host, config, azure, readCluster, 'kube.kubelet');
    const recorded = findRecord<KubeletInputs>(host, INPUTS_RECORD);
    const version = await kubernetesVersion(host, config, azure, async () => facts, 'kube.kubelet', recorded?.version);
    const nodeIP = settings.nodeIP ?? (fresh || !recorded?.nodeIP ? ((await routeSource(facts.server)) ?? recorded?.nodeIP) : recorded.nodeIP);
    if (!nodeIP) {
      throw new ConfigError(
        `no route from this machine to the API server ${facts.server}: the kubelet's --node-ip cannot be chosen`,
        [{ path: `pluginConfig["@flexnode/plugin-kube"].nodeIP`, message: 'set the address the cluster reaches this node on' }],
        'set pluginConfig["@flexnode/plugin-kube"].nodeIP, or fix the route and DNS to the API server',
      );
    }
    const name = await nodeName(host, config);
    const resolved = (await host.files.stat(RESOLVED_RESOLV_CONF)) !== undefined;
    const kv = kubeVersionOf(version);
    const kubeletConfig = await renderKubeletConfig({
      config,
      settings,
      cluster: facts,
      paths,
      resolved,
      runtime,
      version: kv,
      machine: await sizeOf(host),
      tlsBootstrap,
    });
    const labels = registrationLabels(config, settings, proxy.plan(clusterNetwork(facts)));
    const args = kubeletArgs(paths, {
      nodeName: name,
      labels,
      nodeIP,
      sandboxImage: runtime.sandboxImage,
      runtimeUnit: runtime.unit,
      version: kv,
      tlsBootstrap,
    });
    const dropIn = kubeletDropIn(paths, args);
    const files: readonly (readonly [path: string, content: string, mode: number])[] = [
      [paths.kubeletConfig, kubeletConfig, 0o644],
      [paths.environmentFile, kubeletEnvironmentFile(proxyEnvironment(config.proxy)), 0o600],
      [paths.unit, kubeletUnit(paths, runtime), 0o644],
      [paths.dropIn, dropIn, 0o644],
    ];
    return { name, facts, inputs: { version, nodeIP } satisfies KubeletInputs, files };
  };

  const fingerprint = async () => {
    const out: Record<string, string | null> = {};
    // bootstrap-token mode: the kubeconfig is the kubelet's own (rewritten on each rotation): its bootstrap one counts.
    const credentials = tlsBootstrap ? paths.bootstrapKubeconfig : paths.kubeconfig;
    for (const p of [`${paths.binDir}/kubelet`, paths.kubeletConfig, paths.environmentFile, paths.unit, paths.dropIn, credentials, paths.caCert])
      out[p] = (await host.files.sha256(p)) ?? null;
    return out;
  };

  const api = () => nodeClient(host, config, identity, makeApi);

  /** The Node as the API server has it; its answer (any status) is remembered: `check` measures silences with it. */
  const nodeState = async (name: string): Promise<NodeState> => {
    const client = await api();
    if (!client) return { kind: 'not-ready', detail: `${tlsBootstrap ? paths.bootstrapKubeconfig : paths.kubeconfig} is missing or unreadable` };
    let answer;
    try {
      answer = await client.api.get(name);
    } catch (error) {
      if ((error as { code?: string }).code === NO_NODE_CERTIFICATE) return { kind: 'not-ready', detail: messageOf(error) };
      if (isUnreachable(error))
        return { kind: 'unreachable', server: client.server, detail: `API server ${client.server} not reachable from here (${messageOf(error)})` };
      return { kind: 'not-ready', detail: `reading Node ${name} failed: ${messageOf(error)}` };
    }
    await rememberAnswer(host, client.server, now());
    if (answer.status === 200) {
      const ready = readyCondition(answer.body);
      const cordon = cordonState(answer.body);
      if (ready?.status === 'True') return { kind: 'ready', detail: `Node ${name} Ready`, cordon };
      return {
        kind: 'not-ready',
        cordon,
        detail: `Node ${name} is not Ready${ready ? ` (${ready.reason ?? ready.status}${ready.message ? `: ${ready.message}` : ''})` : ' (no Ready condition yet)'}`,
      };
    }
    if (answer.status === 404) return { kind: 'not-ready', detail: `Node ${name} is not registered with the cluster` };
    if (answer.status === 401 || answer.status === 403) {
      return {
        kind: 'not-ready',
        denied: isAuthorizationDenial(answer),
        detail: `the node identity may not read Node ${name} (HTTP ${answer.status}: ${String(answer.body.message ?? '')}): check its role assignments on the cluster`,
      };
    }
    return { kind: 'not-ready', detail: `reading Node ${name} answered HTTP ${answer.status}: ${String(answer.body.message ?? '')}` };
  };

  /**
   * The node's health as the cluster sees it: Ready, not cordoned by a flexnode run that did not finish (an
   * upgrade's own run expects its cordon), and the API server heard from within apiServerGraceSeconds.
   */
  const health = async (name: string): Promise<CheckResult> => {
    const node = await nodeState(name);
    if (node.kind === 'unreachable') {
      const silence = await silenceOf(host, node.server, now());
      const grace = settings.apiServerGraceSeconds;
      const seconds = Math.round(silence.ms / 1000);
      if (seconds > grace)
        return drifted(
          `${node.detail}; no answer for ${seconds} s (since ${silence.since}), more than the ${grace} s grace (pluginConfig["@flexnode/plugin-kube"].apiServerGraceSeconds): the cluster no longer hears from this node`,
        );
      return ok(`${KUBELET_UNIT} active; ${node.detail}, for ${seconds} s of the ${grace} s grace: Node readiness not checked`);
    }
    if (node.kind === 'not-ready') return drifted(node.detail);
    if (node.cordon.kind === 'flexnode' && !(node.cordon.reason === 'upgrade' && run.command === 'upgrade')) {
      return drifted(
        `Node ${name} is cordoned by a flexnode ${node.cordon.reason} that did not finish (${node.cordon.at}): ${node.cordon.reason === 'upgrade' ? '`flexnode upgrade` finishes or rolls it back' : '`flexnode unbootstrap` finishes it, `flexnode bootstrap` takes the node back'}`,
      );
    }
    return ok(`${KUBELET_UNIT} active; ${node.detail}${node.cordon.kind === 'other' ? ' (cordoned, not by flexnode)' : ''}`);
  };

  const check = async (): Promise<CheckResult> => {
    const want = await expected(false);
    for (const [path, content, mode] of want.files) {
      const current = await host.files.readText(path);
      if (current === undefined) return missing(`${path} is absent`);
      if (current !== content) return drifted(`${path} differs from what flexnode writes`);
      const info = await host.files.stat(path);
      if (info && (info.mode & 0o777) !== mode) return drifted(`${path} has mode ${(info.mode & 0o777).toString(8)}, expected ${mode.toString(8)}`);
    }
    if (!(await host.systemd.isEnabled(KUBELET_UNIT))) return drifted(`${KUBELET_UNIT} is not enabled`);
    if (!(await host.systemd.available())) return ok(`${KUBELET_UNIT} written and enabled; no service manager is running, so it was not started or checked`);
    if (!(await host.systemd.isActive(KUBELET_UNIT))) return drifted(`${KUBELET_UNIT} is not active`);
    if (serviceInputsChanged(host, await fingerprint(), STARTED_RECORD))
      return drifted(`${KUBELET_UNIT} runs with older files than those installed: it needs a restart`);
    const leaving = teardownUnderWay(host);
    if (leaving) {
      return drifted(
        `an unbootstrap began taking Node ${leaving.node ?? want.name} out at ${leaving.startedAt} (it cordons it first; phases done: ${leaving.done.join(', ') || 'none'}) and did not finish: \`flexnode unbootstrap\` finishes it, \`flexnode bootstrap\` takes the node back`,
      );
    }
    return health(want.name);
  };

  /** A run that converges the node takes it back into service after an unfinished unbootstrap or upgrade. */
  const backInService = async (name: string) => {
    if (run.command === 'upgrade' || host.dryRun) return; // the upgrade's own cordon: it uncordons at its end
    if (!findRecord(host, NODE_RECORD)) return; // a first install: no run of this node left anything to take back
    const leaving = teardownUnderWay(host);
    const client = await api();
    if (client && (await uncordon(client.api, name).catch(() => false)))
      host.log.warn(`Node ${name} was cordoned by a flexnode run that did not finish: uncordoned`);
    if (leaving) {
      host.log.warn(`the unbootstrap begun ${leaving.startedAt} is abandoned: the node is back in service`);
      await host.changes.forget(TEARDOWN_RECORD);
    }
  };

  return {
    check,
    async install() {
      if ((await check()).status === 'ok') return;
      const want = await expected(true);
      // The node's first join: its roles may have just been granted (Ready waits out their propagation).
      const firstJoin = !findRecord(host, NODE_RECORD);
      await backInService(want.name);
      // Write-ahead, before the directory and the kubelet exist: what was there before the kubelet first ran is
      // what unbootstrap leaves; what the kubelet writes there after is its state, removed with the node.
      await recordKubeletState(host, paths.kubeletDir);
      await host.files.mkdir(paths.kubeletDir, { mode: 0o750 });
      await host.files.mkdir(paths.volumePluginDir);
      await host.files.mkdir(paths.dropInDir);
      await host.files.mkdir(paths.configDir);
      for (const [path, content, mode] of want.files) await host.files.write(path, content, { mode });
      await replaceRecord(host, NODE_RECORD, { name: want.name });
      await replaceRecord(host, INPUTS_RECORD, want.inputs);
      await rememberFacts(host, want.facts);
      // Write-ahead: the kubelet will write its own kubeconfig and client certificates; whether they were there
      // before decides whether uninstall removes them.
      if (tlsBootstrap && !findRecord(host, CREDENTIALS_RECORD) && !host.dryRun) {
        await replaceRecord(host, CREDENTIALS_RECORD, { existedBefore: (await host.files.stat(paths.kubeconfig)) !== undefined });
      }
      if ((await runServiceWith(host, KUBELET_UNIT, await fingerprint(), STARTED_RECORD)) === 'enabled only') return;
      if (host.dryRun) return;
      const started = Date.now();
      let deadline = started + settings.readyTimeoutSeconds * 1000;
      let deniedSince: number | undefined;
      // A kubelet usually reports Ready within seconds of starting: ask soon, then less and less often.
      let interval = Math.min(FIRST_POLL_MS, pollMs);
      for (;;) {
        const node = await nodeState(want.name);
        if (node.kind !== 'not-ready') {
          host.log.info(node.detail);
          return;
        }
        // The node identity (and so the kubelet) denied: its grants may still be on their way to the cluster, and a
        // denial stays cached (cluster/rbac-propagation.ts): wait for them as long as for any of its requests.
        if (node.denied && firstJoin && !tlsBootstrap && deniedSince === undefined) {
          deniedSince = Date.now();
          const until = deniedSince + settings.rbacPropagationSeconds * 1000;
          if (until > deadline) {
            deadline = until;
            host.log.warn(
              `${node.detail}; Azure RBAC role assignments take up to 5 minutes to reach AKS and a denial stays cached for minutes: waiting until ${new Date(deadline).toISOString()} (pluginConfig["@flexnode/plugin-kube"].rbacPropagationSeconds)`,
            );
          }
        }
        if (Date.now() >= deadline) {
          throw new StepError('kube.kubelet', `${node.detail} ${Math.round((Date.now() - started) / 1000)} s after starting the kubelet`, {
            hint: `see \`journalctl -u ${KUBELET_UNIT} -n 50\`; raise pluginConfig["@flexnode/plugin-kube"].readyTimeoutSeconds for slow networks`,
          });
        }
        await sleep(interval);
        interval = Math.min(interval * 2, pollMs);
      }
    },
    async uninstall() {
      const node = findRecord<{ name: string }>(host, NODE_RECORD);
      // Read before anything is removed (the kubeconfigs are other steps' files). The node drains itself: cordon
      // (its own Node) and evictions (its own pods) are within what system:node and flexnode's node role allow.
      const clients = await maintenanceClients(host, config, identity, azure, { nodeApi: makeApi, purpose: 'unbootstrap of kube.kubelet' });
      const facts = recordedFacts(host, config);
      await teardownNode({
        host,
        config,
        run,
        settings,
        kubeletDir: paths.kubeletDir,
        runtime,
        cni,
        clients,
        node: node?.name,
        sleep,
        now: () => now().getTime(),
        // Newest first: stop (if we started it), disable (if we enabled it), remove or restore our files. The
        // kubelet must be stopped before the Node is deleted: it would register it again.
        stopKubelet: async () => {
          await host.changes.revert();
          await host.changes.forget(STARTED_RECORD);
          if (await host.systemd.available()) await host.systemd.daemonReload();
        },
        // system:node may not delete Nodes: in bootstrap-token mode the operator does; in arc-msi mode the node
        // looks first (gone or replaced needs nobody else) and tries, then the operator deletes it.
        deleteNode: async (name) => {
          const nodeClient = tlsBootstrap || !clients ? undefined : { server: clients.server, api: clients.node };
          await deleteNodeObject({ host, name, purpose: 'unbootstrap of kube.kubelet', nodeClient, facts, azure, operatorClient: options.operatorClient });
        },
        // The kubelet's credentials (bootstrap-token mode): removed by name, never backed up (a private key).
        removeCredentials: async () => {
          const credentials = findRecord<{ existedBefore: boolean }>(host, CREDENTIALS_RECORD);
          if (credentials && !credentials.existedBefore) {
            const removed = await removeKubeletCredentials(host, paths);
            if (removed.length > 0) host.log.info(`removed the kubelet's node credentials: ${removed.join(', ')}`);
          }
        },
      });
      for (const record of [CREDENTIALS_RECORD, NODE_RECORD, INPUTS_RECORD, FACTS_RECORD, KUBELET_STATE_RECORD, TEARDOWN_RECORD])
        await host.changes.forget(record);
      await reportLeftovers(host, paths.kubeletDir);
    },
  };
}
