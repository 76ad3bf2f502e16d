import { messageOf } from '../util.js';
import os from 'node:os';
import { capabilityToken, ConfigError, defineStep, drifted, missing, ok, StepError, Tokens, type AzureContext, type CheckResult, type FlexnodeConfig, type Host, type NodeIdentity, type StepDefinition, findRecord, replaceRecord, runServiceWith, serviceInputsChanged } from '@flexnode/sdk';
import { AKS_SCOPE, defaultClusterReader, type ClusterReader } from '../cluster/cluster.js';
import { readKubeconfig } from '../cluster/kubeconfig.js';
import { KUBELET_UNIT, kubePaths } from '../paths.js';
import { kubeSettings } from '../settings.js';
import { httpsNodeApi, isUnreachable, readyCondition, type NodeApi, type NodeApiOptions } from './api.js';
import { nodeLabels, renderKubeletConfig, RESOLVED_RESOLV_CONF } from './config.js';
import { kubeletArgs, kubeletDropIn, kubeletUnit, proxyEnvironment } from './unit.js';

/** Custom record: the sha256 of what the running kubelet was (re)started with; a change needs a restart. */
export const STARTED_RECORD = 'kubelet-started';
/** Custom record: the Node this step registered (deleted again on uninstall). */
export const NODE_RECORD = 'kubelet-node';

export interface KubeletStepOptions {
  readCluster?: ClusterReader;
  /** The Kubernetes API client; tests inject a fake. */
  nodeApi?: (options: NodeApiOptions) => NodeApi;
  sleep?: (ms: number) => Promise<void>;
  /** Longest interval of the wait for Ready (it starts at 100 ms and doubles up to this). Default 2 s. */
  pollMs?: number;
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
  const makeApi = options.nodeApi ?? httpsNodeApi;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const pollMs = options.pollMs ?? 2000;

  return defineStep({
    id: 'kube.kubelet',
    title: 'kubelet: configuration, systemd unit, Node Ready',
    provides: ['kubelet'],
    after: ['kube.binaries', 'kube.kernel-modules', 'kube.sysctl', 'kube.swap', 'kube.packages', 'cluster-credentials', 'container-runtime', 'cni', 'arc-identity'],
    inject: [Tokens.Host, Tokens.Config, capabilityToken('azure-credential'), capabilityToken('arc-identity')],
    create: (host: Host, config: FlexnodeConfig, azure: AzureContext | undefined, identity: NodeIdentity) => {
      const paths = kubePaths(config);
      const settings = kubeSettings(config);

      const expected = async () => {
        const facts = await readCluster(azure, config);
        const name = await nodeName(host, config);
        const resolved = (await host.files.stat(RESOLVED_RESOLV_CONF)) !== undefined;
        const kubeletConfig = await renderKubeletConfig({ config, settings, cluster: facts, paths, resolved });
        const dropIn = kubeletDropIn(paths, kubeletArgs(paths, name, nodeLabels(config), settings.nodeIP), proxyEnvironment(config));
        return { name, files: [[paths.kubeletConfig, kubeletConfig], [paths.unit, kubeletUnit(paths)], [paths.dropIn, dropIn]] as const };
      };

      const fingerprint = async () => {
        const out: Record<string, string | null> = {};
        for (const p of [`${paths.binDir}/kubelet`, paths.kubeletConfig, paths.unit, paths.dropIn, paths.kubeconfig, paths.caCert]) out[p] = (await host.files.sha256(p)) ?? null;
        return out;
      };

      const api = async (): Promise<{ api: NodeApi; server: string } | undefined> => {
        const text = await host.files.readText(paths.kubeconfig);
        const kc = text === undefined ? undefined : await readKubeconfig(text);
        if (!kc) return undefined;
        return { server: kc.server, api: makeApi({ server: kc.server, caPem: kc.caPem, token: async () => (await identity.getToken(AKS_SCOPE)).token }) };
      };

      const nodeState = async (name: string): Promise<NodeState> => {
        const client = await api();
        if (!client) return { kind: 'not-ready', detail: `${paths.kubeconfig} is missing or unreadable` };
        let answer;
        try {
          answer = await client.api.getNode(name);
        } catch (error) {
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
        const want = await expected();
        for (const [path, content] of want.files) {
          const current = await host.files.readText(path);
          if (current === undefined) return missing(`${path} is absent`);
          if (current !== content) return drifted(`${path} differs from what flexnode writes`);
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
          const want = await expected();
          await host.files.mkdir(paths.kubeletDir, { mode: 0o750 });
          await host.files.mkdir(paths.volumePluginDir);
          await host.files.mkdir(paths.dropInDir);
          for (const [path, content] of want.files) await host.files.write(path, content, { mode: 0o644 });
          await replaceRecord(host, NODE_RECORD, { name: want.name });
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
          const client = await api(); // read before anything is removed (the kubeconfig is the credentials step's)
          // Newest first: stop (if we started it), disable (if we enabled it), remove or restore our files.
          await host.changes.revert();
          await host.changes.forget(STARTED_RECORD);
          if (await host.systemd.available()) await host.systemd.daemonReload();
          // The kubelet is stopped now (it would register the Node again otherwise): delete the Node object.
          if (node && client) await deleteNode(host, client, node.name);
          await host.changes.forget(NODE_RECORD);
          await reportLeftovers(host, paths.kubeletDir);
        },
      };
    },
  });
}

async function deleteNode(host: Host, client: { api: NodeApi; server: string }, name: string): Promise<void> {
  try {
    const answer = await client.api.deleteNode(name);
    if (answer.status === 200 || answer.status === 202) host.log.info(`deleted Node ${name} from the cluster`);
    else if (answer.status === 404) host.log.info(`Node ${name} was already gone from the cluster`);
    else if (answer.status === 401 || answer.status === 403) {
      host.log.warn(`the node identity may not delete Node ${name} (HTTP ${answer.status}: ${String(answer.body.message ?? '')}); fix: delete it with \`kubectl delete node ${name}\`, or grant the identity delete on nodes`);
    } else host.log.warn(`deleting Node ${name} answered HTTP ${answer.status}: ${String(answer.body.message ?? '')}; delete it with \`kubectl delete node ${name}\``);
  } catch (error) {
    host.log.warn(`could not delete Node ${name}: ${messageOf(error)}; delete it with \`kubectl delete node ${name}\``);
  }
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
