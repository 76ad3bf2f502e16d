import { messageOf } from '../util.js';
import os from 'node:os';
import { Cni, ConfigError, ContainerRuntime, defineStep, drifted, missing, ok, StepError, Tokens, type CheckResult, type FlexnodeConfig, type Host, type StepDefinition, findRecord, replaceRecord, runServiceWith, serviceInputsChanged, AzureCredential, ArcIdentity, PodCidr, ServiceProxy } from '@flexnode/sdk';
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
import { httpsNodesApi, type NodesApi } from '../network/nodes.js';
import { renderKubeletConfig, RESOLVED_RESOLV_CONF, type MachineSize } from './config.js';
import { machineSize, routeSourceAddress } from './machine.js';
import { kubeletArgs, kubeletDropIn, kubeletEnvironmentFile, kubeletUnit, proxyEnvironment } from './unit.js';

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
  /** The Kubernetes API client; tests inject a fake. */
  nodeApi?: (options: NodeApiOptions) => NodesApi;
  /** The operator's Kubernetes client (deleting the Node on unbootstrap); tests inject a fake. */
  operatorClient?: (options: NodeApiOptions) => KubeClient;
  sleep?: (ms: number) => Promise<void>;
  /** Longest interval of the wait for Ready (it starts at 100 ms and doubles up to this). Default 2 s. */
  pollMs?: number;
  /** The machine's size (kube-reserved); tests inject one. */
  machine?: (host: Host) => Promise<MachineSize>;
  /** The source address of the route to the API server (`--node-ip`); tests inject one. */
  routeSource?: (server: string) => Promise<string | undefined>;
}

type NodeState =
  | { kind: 'ready'; detail: string }
  | { kind: 'unreachable'; detail: string }
  | { kind: 'not-ready'; detail: string };

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

/**
 * `kube.kubelet` (provides `kubelet`): the KubeletConfiguration, kubelet.service and its drop-in 10-flexnode.conf,
 * daemon-reload, enable, start; then waits until the Node is Ready. Check: files as expected, unit enabled and
 * (with a service manager) active with the current files, and, when the API server is reachable, the Node object
 * Ready (read-only GET with the node identity's token over HTTPS trusting only the cluster CA).
 *
 * Uninstall: stops and disables the kubelet and removes exactly the files this step wrote (journal), then deletes
 * the Node object if the identity may (a 403 is a warning with the fix, not a failure). Nothing under the kubelet
 * directory that the kubelet itself created is touched, and nothing is unmounted: pod volumes may live there.
 */
export function createKubeletStep(options: KubeletStepOptions = {}): StepDefinition {
  const readCluster = options.readCluster ?? defaultClusterReader;
  const makeApi = options.nodeApi ?? httpsNodesApi;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const pollMs = options.pollMs ?? 2000;
  const sizeOf = options.machine ?? machineSize;
  const routeSource = options.routeSource ?? routeSourceAddress;

  return defineStep({
    id: 'kube.kubelet',
    title: 'kubelet: configuration, systemd unit, Node Ready',
    provides: ['kubelet'],
    // After pod-cidr: a Node registered by flexnode with its pod range is there before the kubelet adopts it.
    after: ['kube.binaries', 'kube.kernel-modules', 'kube.sysctl', 'kube.swap', 'kube.packages', 'cluster-credentials', 'kube.node-bootstrap', ContainerRuntime, Cni, ArcIdentity, PodCidr],
    inject: { host: Tokens.Host, config: Tokens.Config, azure: AzureCredential, identity: ArcIdentity, runtime: ContainerRuntime, proxy: ServiceProxy },
    create: ({ host, config, azure, identity, runtime, proxy }) => {
      const paths = kubePaths(config);
      const settings = kubeSettings(config);
      const tlsBootstrap = kubeletAuth(config) === 'bootstrap-token';

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
          throw new ConfigError(`no route from this machine to the API server ${facts.server}: the kubelet's --node-ip cannot be chosen`, [
            { path: `pluginConfig["@flexnode/plugin-kube"].nodeIP`, message: 'set the address the cluster reaches this node on' },
          ], 'set pluginConfig["@flexnode/plugin-kube"].nodeIP, or fix the route and DNS to the API server');
        }
        const name = await nodeName(host, config);
        const resolved = (await host.files.stat(RESOLVED_RESOLV_CONF)) !== undefined;
        const kv = kubeVersionOf(version);
        const kubeletConfig = await renderKubeletConfig({ config, settings, cluster: facts, paths, resolved, runtime, version: kv, machine: await sizeOf(host), tlsBootstrap });
        const labels = registrationLabels(config, settings, proxy.plan(clusterNetwork(facts)));
        const args = kubeletArgs(paths, { nodeName: name, labels, nodeIP, sandboxImage: runtime.sandboxImage, runtimeUnit: runtime.unit, version: kv, tlsBootstrap });
        const dropIn = kubeletDropIn(paths, args);
        const files: readonly (readonly [path: string, content: string, mode: number])[] = [
          [paths.kubeletConfig, kubeletConfig, 0o644],
          [paths.environmentFile, kubeletEnvironmentFile(proxyEnvironment(config)), 0o600],
          [paths.unit, kubeletUnit(paths, runtime), 0o644],
          [paths.dropIn, dropIn, 0o644],
        ];
        return { name, facts, inputs: { version, nodeIP } satisfies KubeletInputs, files };
      };

      const fingerprint = async () => {
        const out: Record<string, string | null> = {};
        // bootstrap-token mode: the kubeconfig is the kubelet's own (rewritten on each rotation): its bootstrap one counts.
        const credentials = tlsBootstrap ? paths.bootstrapKubeconfig : paths.kubeconfig;
        for (const p of [`${paths.binDir}/kubelet`, paths.kubeletConfig, paths.environmentFile, paths.unit, paths.dropIn, credentials, paths.caCert]) out[p] = (await host.files.sha256(p)) ?? null;
        return out;
      };

      const api = () => nodeClient(host, config, identity, makeApi);

      const nodeState = async (name: string): Promise<NodeState> => {
        const client = await api();
        if (!client) return { kind: 'not-ready', detail: `${tlsBootstrap ? paths.bootstrapKubeconfig : paths.kubeconfig} is missing or unreadable` };
        let answer;
        try {
          answer = await client.api.get(name);
        } catch (error) {
          if ((error as { code?: string }).code === NO_NODE_CERTIFICATE) return { kind: 'not-ready', detail: messageOf(error) };
          if (isUnreachable(error)) return { kind: 'unreachable', detail: `API server ${client.server} not reachable from here (${messageOf(error)}): Node readiness not checked` };
          return { kind: 'not-ready', detail: `reading Node ${name} failed: ${messageOf(error)}` };
        }
        if (answer.status === 200) {
          const ready = readyCondition(answer.body);
          if (ready?.status === 'True') return { kind: 'ready', detail: `Node ${name} Ready` };
          return { kind: 'not-ready', detail: `Node ${name} is not Ready${ready ? ` (${ready.reason ?? ready.status}${ready.message ? `: ${ready.message}` : ''})` : ' (no Ready condition yet)'}` };
        }
        if (answer.status === 404) return { kind: 'not-ready', detail: `Node ${name} is not registered with the cluster` };
        if (answer.status === 401 || answer.status === 403) {
          return { kind: 'not-ready', detail: `the node identity may not read Node ${name} (HTTP ${answer.status}: ${String(answer.body.message ?? '')}): check its role assignments on the cluster` };
        }
        return { kind: 'not-ready', detail: `reading Node ${name} answered HTTP ${answer.status}: ${String(answer.body.message ?? '')}` };
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
        if (serviceInputsChanged(host, await fingerprint(), STARTED_RECORD)) return drifted(`${KUBELET_UNIT} runs with older files than those installed: it needs a restart`);
        const node = await nodeState(want.name);
        if (node.kind === 'not-ready') return drifted(node.detail);
        return ok(`${KUBELET_UNIT} active; ${node.detail}`);
      };

      return {
        check,
        async install() {
          if ((await check()).status === 'ok') return;
          const want = await expected(true);
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
          const deadline = Date.now() + settings.readyTimeoutSeconds * 1000;
          // A kubelet usually reports Ready within seconds of starting: ask soon, then less and less often.
          let interval = Math.min(FIRST_POLL_MS, pollMs);
          for (;;) {
            const node = await nodeState(want.name);
            if (node.kind !== 'not-ready') {
              host.log.info(node.detail);
              return;
            }
            if (Date.now() >= deadline) {
              throw new StepError('kube.kubelet', `${node.detail} ${settings.readyTimeoutSeconds} s after starting the kubelet`, {
                hint: `see \`journalctl -u ${KUBELET_UNIT} -n 50\`; raise pluginConfig["@flexnode/plugin-kube"].readyTimeoutSeconds for slow networks`,
              });
            }
            await sleep(interval);
            interval = Math.min(interval * 2, pollMs);
          }
        },
        async uninstall() {
          const node = findRecord<{ name: string }>(host, NODE_RECORD);
          // Read before anything is removed (the kubeconfigs are other steps' files).
          const client = tlsBootstrap ? undefined : await api();
          const facts = recordedFacts(host, config);
          // Newest first: stop (if we started it), disable (if we enabled it), remove or restore our files.
          await host.changes.revert();
          await host.changes.forget(STARTED_RECORD);
          if (await host.systemd.available()) await host.systemd.daemonReload();
          // The kubelet is stopped now (it would register the Node again otherwise): delete the Node object.
          if (node) await deleteNodeObject({ host, name: node.name, purpose: 'unbootstrap of kube.kubelet', nodeClient: client, facts, azure, operatorClient: options.operatorClient });
          const credentials = findRecord<{ existedBefore: boolean }>(host, CREDENTIALS_RECORD);
          if (credentials && !credentials.existedBefore) {
            const removed = await removeKubeletCredentials(host, paths);
            if (removed.length > 0) host.log.info(`removed the kubelet's node credentials: ${removed.join(', ')}`);
          }
          await host.changes.forget(CREDENTIALS_RECORD);
          await host.changes.forget(NODE_RECORD);
          await host.changes.forget(INPUTS_RECORD);
          await host.changes.forget(FACTS_RECORD);
          await reportLeftovers(host, paths.kubeletDir);
        },
      };
    },
  });
}

/** Say what the kubelet left in its directory (not ours to delete) and what is still mounted there. */
async function reportLeftovers(host: Host, kubeletDir: string): Promise<void> {
  const left = await host.files.list(kubeletDir);
  if (left.length > 0) host.log.info(`left ${kubeletDir}/{${left.join(',')}}: created by the kubelet, not by flexnode, so not removed`);
  const mounts = ((await host.files.readText('/proc/self/mountinfo')) ?? '')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && m.startsWith(`${kubeletDir}/`));
  if (mounts.length > 0) host.log.warn(`still mounted under ${kubeletDir} (pod volumes; flexnode unmounts nothing it did not mount): ${mounts.join(', ')}`);
}

export const kubeKubelet = createKubeletStep();
