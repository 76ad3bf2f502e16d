import {
  findRecord,
  FlexnodeError,
  isFlexnodeError,
  replaceRecord,
  StepError,
  type CniService,
  type ContainerRuntimeService,
  type FlexnodeConfig,
  type Host,
  type RunContext,
} from '@flexnode/sdk';
import { isUnreachable } from '../kubelet/api.js';
import { NO_NODE_CERTIFICATE } from '../kubelet/node-access.js';
import type { MaintenanceClients } from '../maintenance/clients.js';
import { cordon } from '../maintenance/cordon.js';
import { DrainTimeoutError, drainNode } from '../maintenance/drain.js';
import { releaseSlots } from '../maintenance/slots.js';
import { upgradeSettings } from '../maintenance/upgrade-settings.js';
import type { KubeSettings } from '../settings.js';
import { messageOf } from '../util.js';
import { removePodContainers } from './containers.js';
import { removeKubeletState } from './kubelet-state.js';
import { mountPoints, unmountUnder } from './mounts.js';
import { bridgeNetworks, removeBridge, removeCniNatRules, removeHostLocalLeases } from './network.js';

/** Custom record of the kubelet step: an unbootstrap is taking the node out, and the phases it finished. */
export const TEARDOWN_RECORD = 'kubelet-teardown';

/** The phases, in order. `pods`, `network` and `mounts` act on the live machine, so only with `--root /`. */
export const TEARDOWN_PHASES = ['drain', 'kubelet', 'pods', 'network', 'mounts', 'node', 'state'] as const;
export type TeardownPhase = (typeof TEARDOWN_PHASES)[number];

export interface TeardownRecord {
  startedAt: string;
  node?: string;
  done: TeardownPhase[];
}

export interface TeardownInput {
  host: Host;
  config: FlexnodeConfig;
  run: RunContext;
  settings: KubeSettings;
  kubeletDir: string;
  runtime: ContainerRuntimeService;
  cni: CniService;
  /** Who drains the node and frees its upgrade slot (read before anything is removed); undefined without a kubeconfig. */
  clients?: MaintenanceClients;
  /** The Node this step registered. */
  node?: string;
  /** Stop the kubelet and remove the step's files (its journal). */
  stopKubelet: () => Promise<void>;
  deleteNode: (name: string) => Promise<void>;
  /** Remove the kubelet's own credentials (before the rest of its state). */
  removeCredentials: () => Promise<void>;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** The unbootstrap under way, if one began and did not finish. */
export const teardownUnderWay = (host: Host) => findRecord<TeardownRecord>(host, TEARDOWN_RECORD);

/**
 * Take the node out of the cluster and off the machine, each phase journaled as done (a killed unbootstrap resumes
 * after the last one): cordon and drain (the Eviction API, PDBs respected, DaemonSet and mirror pods left), stop
 * the kubelet and remove its files, stop and remove the pod containers and sandboxes in containerd, remove the
 * bridge, the CNI's NAT chains and host-local's leases of the node's bridge networks, unmount what is mounted under
 * the kubelet's directory, delete the Node (and free an upgrade slot it may hold), then remove what the kubelet
 * wrote in its directory since flexnode first started it. A drain that times out stops here with the node cordoned
 * and says so; the record of it makes `status` and the next run say so too.
 */
export async function teardownNode(input: TeardownInput): Promise<void> {
  const { host, node, clients } = input;
  const earlier = teardownUnderWay(host);
  let record: TeardownRecord = earlier ?? { startedAt: new Date().toISOString(), ...(node ? { node } : {}), done: [] };
  if (earlier) {
    host.log.warn(
      `resuming the unbootstrap of ${node ? `Node ${node}` : 'the node'} begun ${record.startedAt}, ${record.done.length ? `after: ${record.done.join(', ')}` : 'which cordoned it'}`,
    );
  }
  const phase = async (name: TeardownPhase, work: () => Promise<void>) => {
    if (record.done.includes(name)) return;
    await work();
    record = { ...record, done: [...record.done, name] };
    await replaceRecord(host, TEARDOWN_RECORD, record);
  };
  const live = host.root === '/';

  await phase('drain', async () => {
    if (!clients || !node) return host.log.info('no Node to drain: the kubelet never registered one');
    await replaceRecord(host, TEARDOWN_RECORD, record); // journaled before the cordon: a killed run knows
    try {
      const before = await cordon(clients.node, node, 'unbootstrap');
      if (before.kind === 'flexnode') host.log.warn(`Node ${node} was cordoned by flexnode (${before.reason}, ${before.at}) and stays so: continuing`);
      else if (before.kind === 'other') host.log.info(`Node ${node} was already cordoned`);
      else host.log.info(`cordoned Node ${node}`);
      const drained = await drainNode(clients.node, node, {
        timeoutMs: input.settings.drainTimeoutSeconds * 1000,
        force: input.run.force,
        log: host.log,
        sleep: input.sleep,
        now: input.now,
      });
      host.log.info(
        `drained Node ${node}: ${drained.evicted.length} pod(s) evicted${drained.kept.length ? `, ${drained.kept.length} left (DaemonSet or mirror pods: they stop with the node)` : ''}`,
      );
      if (drained.blocking.length)
        host.log.warn(`these pods stop with the node, their PodDisruptionBudgets not respected (--force): ${drained.blocking.map((b) => b.pod).join(', ')}`);
    } catch (error) {
      // bootstrap-token mode, before TLS bootstrapping finished: the kubelet never ran as the node, so nothing of
      // the node's runs here to drain (the Node, if registered for it, goes in the node phase).
      if (isFlexnodeError(error) && error.code === NO_NODE_CERTIFICATE)
        return host.log.info(`Node ${node} not drained: ${error.message}, so no pod of it ran here`);
      if (error instanceof DrainTimeoutError) {
        throw new StepError('kube.kubelet', `${error.message}. Node ${node} stays cordoned: the unbootstrap is under way and resumes where it stopped`, {
          hint: `let the PodDisruptionBudgets allow the evictions and run \`flexnode unbootstrap\` again; \`flexnode unbootstrap --force\` goes on (those pods stop with the node); \`flexnode bootstrap\` takes the node back into service instead`,
        });
      }
      const reachable = !isUnreachable(error);
      if (!input.run.force) {
        throw new StepError('kube.kubelet', `cannot drain Node ${node}: ${messageOf(error)}`, {
          hint: `${reachable && isFlexnodeError(error) && error.hint ? `${error.hint}; ` : ''}\`flexnode unbootstrap --force\` goes on without draining: the pods stop with the node and the cluster removes them with the Node`,
        });
      }
      host.log.warn(`not drained (--force): ${messageOf(error)}`);
    }
  });

  await phase('kubelet', input.stopKubelet);

  if (!live) host.log.info(`--root ${host.root}: the machine's live containers, network and mounts are not this root's; left alone`);
  await phase('pods', async () => {
    if (!live) return;
    const socket = input.runtime.criEndpoint.replace(/^unix:\/\//, '');
    const pods = await removePodContainers(host, socket, { sleep: input.sleep });
    if (pods.skipped) host.log.warn(`pod containers not removed: ${pods.skipped}`);
    else host.log.info(`removed ${pods.removed.length} pod container(s) and sandbox(es) from containerd`);
  });

  await phase('network', async () => {
    if (!live) return;
    const bridges = await bridgeNetworks(host, input.cni.confDir);
    const chains = await removeCniNatRules(
      host,
      bridges.map((b) => b.network),
    );
    for (const { bridge } of bridges) if (await removeBridge(host, bridge)) host.log.info(`removed the pods' bridge ${bridge}`);
    if (chains.length) host.log.info(`removed the CNI's pod NAT chains: ${chains.join(', ')}`);
    for (const { network } of bridges) {
      const leases = await removeHostLocalLeases(host, network);
      if (leases) host.log.info(`removed ${leases} address lease(s) host-local kept for ${network}`);
    }
  });

  await phase('mounts', async () => {
    if (!live) return;
    const { unmounted, failed } = await unmountUnder(host, input.kubeletDir);
    if (unmounted.length) host.log.info(`unmounted ${unmounted.length} mount(s) under ${input.kubeletDir} (the files stay)`);
    if (failed.length)
      throw new FlexnodeError('UNMOUNT_FAILED', `could not unmount ${failed.join(', ')}`, {
        hint: 'find what holds them (fuser -vm <path>) and run `flexnode unbootstrap` again',
      });
  });

  await phase('node', async () => {
    if (!node) return;
    await input.deleteNode(node);
    if (!clients) return;
    const { leaseNamespace, maxConcurrent } = upgradeSettings(input.config);
    const freed = await releaseSlots(clients.slots, { namespace: leaseNamespace, holder: node, slots: maxConcurrent }).catch((error: unknown) => {
      host.log.warn(`could not check the upgrade slots for one Node ${node} holds (as the ${clients.slotHolder}): ${messageOf(error)}`);
      return [];
    });
    if (freed.length) host.log.info(`released upgrade slot(s) ${freed.join(', ')} held by Node ${node}`);
  });

  await phase('state', async () => {
    await input.removeCredentials();
    const removed = await removeKubeletState(host, input.kubeletDir);
    if (removed.length) host.log.info(`removed what the kubelet wrote in ${input.kubeletDir}: ${removed.join(', ')}`);
  });
}

/** Say what is still in the kubelet's directory (not the kubelet's state: see removeKubeletState) and mounted there. */
export async function reportLeftovers(host: Host, kubeletDir: string): Promise<void> {
  const left = await host.files.list(kubeletDir);
  if (left.length > 0)
    host.log.info(
      `still in ${kubeletDir}: ${left.join(', ')} (other steps' files go with those steps; anything else was there before flexnode started the kubelet)`,
    );
  const mounts = mountPoints((await host.files.readText('/proc/self/mountinfo')) ?? '').filter((m) => m.startsWith(`${kubeletDir}/`));
  if (mounts.length > 0) host.log.warn(`still mounted under ${kubeletDir}: ${mounts.join(', ')}`);
}
