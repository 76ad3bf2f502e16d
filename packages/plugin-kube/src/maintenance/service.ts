import {
  ConfigError,
  underRoot,
  FlexnodeError,
  type AzureContext,
  type FlexnodeConfig,
  type Host,
  type NodeIdentity,
  type NodeMaintenanceService,
  type UpgradePlan,
} from '@flexnode/sdk';
import { kubeRelease, kubeVersionOf } from '../binaries/artifacts.js';
import { kubeletAuth } from '../auth.js';
import { isUnreachable, readyCondition } from '../kubelet/api.js';
import { nodeName } from '../kubelet/step.js';
import { kubePaths } from '../paths.js';
import { kubeSettings } from '../settings.js';
import { assertSupportedSkew } from '../skew/skew.js';
import { messageOf } from '../util.js';
import { configuredVersion, parseKubeVersion } from '../version.js';
import type { KubeApiFactory } from './api.js';
import { maintenanceClients, type MaintenanceClients } from './clients.js';
import { apiFailure, cordon, uncordon } from './cordon.js';
import { DrainTimeoutError, drainNode } from './drain.js';
import { acquireSlot, releaseSlots, renewSlot } from './slots.js';
import { SLOT_LEASE_SECONDS, upgradeSettings } from './upgrade-settings.js';

export interface MaintenanceOptions {
  nodeApi?: KubeApiFactory;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Interval of the wait for Ready; default 2 s. */
  pollMs?: number;
}

const notJoined = (what: string) =>
  new FlexnodeError('NOT_BOOTSTRAPPED', `${what}: this machine has not joined a cluster yet`, { hint: 'run `flexnode bootstrap` first' });

/**
 * plugin-kube's node maintenance (the `node-maintenance` service): the version plan of an upgrade (`--to`, the
 * config's pin or the API server's version, checked by the version skew policy and for a verifiable release),
 * and the node taken out of service (an upgrade slot, cordon, drain) and put back (uncordon, slot released).
 */
export function nodeMaintenance(
  host: Host,
  config: FlexnodeConfig,
  identity: NodeIdentity,
  azure: AzureContext | undefined,
  o: MaintenanceOptions = {},
): NodeMaintenanceService {
  const paths = kubePaths(config);
  const settings = kubeSettings(config);
  const slots = upgradeSettings(config);
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = o.now ?? Date.now;
  let renewal: NodeJS.Timeout | undefined;

  const kubeconfig = kubeletAuth(config) === 'bootstrap-token' ? paths.bootstrapKubeconfig : paths.kubeconfig;
  const client = async (): Promise<MaintenanceClients> =>
    (await maintenanceClients(host, config, identity, azure, { nodeApi: o.nodeApi, purpose: 'flexnode upgrade' })) ??
    Promise.reject(notJoined(`${kubeconfig} is missing`));

  /** The installed kubelet's version (what it says, not what a record says); the binary under --root. */
  const installed = async (): Promise<string> => {
    const answer = await host.exec.run(underRoot(host.root, `${paths.binDir}/kubelet`), ['--version'], { mutates: false, allowFailure: true });
    const version = /v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)/.exec(answer.stdout)?.[1];
    if (answer.exitCode !== 0 || !version) throw notJoined(`${paths.binDir}/kubelet --version did not answer`);
    return version;
  };

  const apiServerVersion = async (c: MaintenanceClients): Promise<string> => {
    let answer;
    try {
      answer = await c.node.version();
    } catch (error) {
      if (!isUnreachable(error)) throw error;
      throw new FlexnodeError('KUBE_API', `the API server ${c.server} is not reachable from here (${messageOf(error)}): an upgrade needs it`, {
        hint: 'nothing was changed; run it again when the cluster answers',
      });
    }
    const version = typeof answer.body.gitVersion === 'string' ? parseKubeVersion(answer.body.gitVersion) : undefined;
    if (answer.status !== 200 || !version) throw apiFailure(`GET ${c.server}/version`, answer);
    return version.text;
  };

  const service: NodeMaintenanceService = {
    async upgradePlan(requested) {
      const wanted = requested === undefined ? undefined : kubeVersionOf(requested).text; // bad input first: exit 2
      const from = await installed();
      const c = await client();
      const apiServer = await apiServerVersion(c);
      const pinned = configuredVersion(config);
      let to: string;
      let source: UpgradePlan['source'];
      if (wanted !== undefined) {
        to = wanted;
        source = 'requested';
        if (pinned && pinned !== to) {
          throw new ConfigError(
            `--to ${to}: the config pins kubernetes.version ${pinned}, which every bootstrap and the agent would install again`,
            [{ path: 'kubernetes.version', message: `pinned to ${pinned}` }],
            `set kubernetes.version to ${to} in the config and run \`flexnode upgrade\` without --to; nothing was changed`,
          );
        }
      } else if (pinned) {
        to = pinned;
        source = 'pinned';
      } else {
        to = apiServer;
        source = 'cluster';
      }
      const origin = { requested: '--to', pinned: 'kubernetes.version', cluster: "the cluster's version" }[source];
      assertSupportedSkew(to, apiServer, origin, `GET ${c.server}/version`);
      kubeRelease(config, host.arch, to); // a release nothing can verify: refused now, before anything changes
      let outsideSkew = false;
      try {
        assertSupportedSkew(from, apiServer, 'the installed kubelet', `GET ${c.server}/version`);
      } catch {
        outsideSkew = true;
      }
      return { from, to, source, apiServer, outsideSkew, config: { kubernetes: { ...(config.kubernetes ?? {}), version: to } } };
    },

    async begin() {
      const c = await client();
      const name = await nodeName(host, config);
      const lease = { namespace: slots.leaseNamespace, slots: slots.maxConcurrent, holder: name, leaseSeconds: SLOT_LEASE_SECONDS, log: host.log, now };
      const slot = await acquireSlot(c.slots, { ...lease, waitMs: settings.upgradeSlotWaitSeconds * 1000, sleep });
      host.log.info(
        `holding upgrade slot ${slots.leaseNamespace}/${slot}${c.slotHolder === 'operator' ? " (as the operator: a node's certificate may hold no Lease but its own)" : ''}`,
      );
      renewal = setInterval(
        () => {
          renewSlot(c.slots, lease, slot).then(
            (held) => held || host.log.warn(`upgrade slot ${slot} is no longer this node's`),
            (error: unknown) => host.log.warn(`renewing upgrade slot ${slot} failed: ${messageOf(error)}`),
          );
        },
        (SLOT_LEASE_SECONDS * 1000) / 3,
      );
      renewal.unref();
      try {
        const before = await cordon(c.node, name, 'upgrade');
        host.log.info(before.kind === 'other' ? `Node ${name} was already cordoned (not by flexnode): it stays so after the upgrade` : `cordoned Node ${name}`);
        const drained = await drainNode(c.node, name, { timeoutMs: settings.drainTimeoutSeconds * 1000, force: false, log: host.log, sleep, now });
        host.log.info(`drained Node ${name}: ${drained.evicted.length} pod(s) evicted`);
      } catch (error) {
        await service.end().catch((e: unknown) => host.log.error(`putting Node ${name} back in service failed: ${messageOf(e)}`));
        if (error instanceof DrainTimeoutError) {
          throw new FlexnodeError('DRAIN_TIMEOUT', `${error.message}; the upgrade did not start: Node ${name} is uncordoned and back in service`, {
            hint: error.hint?.replace(/, or use --force.*$/, ''),
          });
        }
        throw error;
      }
    },

    async waitReady(version) {
      const c = await client();
      const name = await nodeName(host, config);
      const want = `v${version.replace(/^v/, '')}`;
      const deadline = now() + settings.readyTimeoutSeconds * 1000;
      let seen: string;
      for (;;) {
        try {
          const answer = await c.node.get(name);
          if (answer.status === 200) {
            const ready = readyCondition(answer.body);
            const kubelet = ((answer.body.status ?? {}) as { nodeInfo?: { kubeletVersion?: string } }).nodeInfo?.kubeletVersion ?? '?';
            if (ready?.status === 'True' && kubelet === want) return;
            seen = `kubelet ${kubelet}, Ready ${ready ? `${ready.status}${ready.reason ? ` (${ready.reason}${ready.message ? `: ${ready.message}` : ''})` : ''}` : 'not reported'}`;
          } else seen = `HTTP ${answer.status} reading Node ${name}`;
        } catch (error) {
          seen = messageOf(error);
        }
        if (now() >= deadline) {
          throw new FlexnodeError(
            'NODE_NOT_READY',
            `Node ${name} did not come back Ready with kubelet ${want} within ${settings.readyTimeoutSeconds} s: ${seen}`,
            {
              hint: 'see `journalctl -u kubelet.service`; pluginConfig["@flexnode/plugin-kube"].readyTimeoutSeconds sets the wait',
            },
          );
        }
        await sleep(o.pollMs ?? 2000);
      }
    },

    async end() {
      if (renewal) clearInterval(renewal);
      renewal = undefined;
      const c = await client();
      const name = await nodeName(host, config);
      if (await uncordon(c.node, name)) host.log.info(`uncordoned Node ${name}`);
      const freed = await releaseSlots(c.slots, { namespace: slots.leaseNamespace, holder: name, slots: slots.maxConcurrent });
      if (freed.length) host.log.info(`released upgrade slot ${freed.join(', ')}`);
    },
  };
  return service;
}
