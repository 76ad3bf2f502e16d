import type { Host } from '@flexnode/sdk';

/** containerd's namespace of the CRI plugin: where the kubelet's pod sandboxes and containers live. */
export const CRI_NAMESPACE = 'k8s.io';

/**
 * Labels that mark a container as the kubelet's: the CRI plugin puts `io.cri-containerd.kind` (sandbox or
 * container) on everything it creates for the kubelet, and the kubelet gives both the pod's uid. A container in
 * the namespace without either (someone's `ctr run`) is not the kubelet's and is left alone.
 */
export const KUBELET_LABELS = ['io.cri-containerd.kind', 'io.kubernetes.pod.uid'] as const;

export interface PodContainers {
  /** Containers stopped and removed, by id. */
  removed: string[];
  /** Why nothing was done, when nothing could be. */
  skipped?: string;
}

interface ContainerInfo {
  id: string;
  labels: Record<string, string>;
  /** The network namespace a sandbox was given (`/var/run/netns/cni-...`), when it has its own path. */
  netns?: string;
}

const GRACE_MS = 10_000;
const POLL_MS = 500;

/**
 * Stop and remove the kubelet's pod containers and sandboxes through containerd (`ctr` on the runtime's socket,
 * namespace k8s.io, chosen by {@link KUBELET_LABELS}): SIGTERM, SIGKILL after 10 s, task and container deleted,
 * and the network namespaces the sandboxes were given. After the kubelet has stopped, nothing else would:
 * containerd's unit stops with KillMode=process, which leaves every container running.
 */
export async function removePodContainers(
  host: Host,
  socket: string,
  options: { sleep?: (ms: number) => Promise<void>; graceMs?: number } = {},
): Promise<PodContainers> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  if (!(await host.exec.which('ctr'))) return { removed: [], skipped: 'ctr is not installed' };
  const ctr = (args: string[], mutates: boolean, describe?: string) =>
    host.exec.run('ctr', ['--address', socket, '--namespace', CRI_NAMESPACE, ...args], {
      mutates,
      allowFailure: true,
      timeoutMs: 30_000,
      ...(describe ? { describe } : {}),
    });
  const listed = await ctr(['containers', 'ls', '-q'], false);
  if (listed.exitCode !== 0) return { removed: [], skipped: `containerd does not answer on ${socket}: ${listed.stderr.trim().split('\n')[0] ?? ''}` };
  const ours: ContainerInfo[] = [];
  for (const id of listed.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const info = await ctr(['containers', 'info', id], false);
    if (info.exitCode !== 0) continue; // removed meanwhile
    const parsed = parseInfo(id, info.stdout);
    if (parsed && KUBELET_LABELS.some((l) => parsed.labels[l] !== undefined)) ours.push(parsed);
  }
  if (ours.length === 0) return { removed: [] };
  const running = async () => {
    const tasks = await ctr(['tasks', 'ls'], false);
    const states = new Map(
      tasks.stdout
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f.length >= 3)
        .map((f) => [f[0]!, f[2]!]),
    );
    return ours.filter((c) => states.get(c.id) === 'RUNNING' || states.get(c.id) === 'PAUSED');
  };
  const stopAll = async (signal: string, within: number) => {
    for (const c of await running()) await ctr(['tasks', 'kill', '--all', '--signal', signal, c.id], true, `stop the kubelet's container ${c.id} (${signal})`);
    for (let waited = 0; waited < within && (await running()).length > 0; waited += POLL_MS) await sleep(POLL_MS);
  };
  await stopAll('SIGTERM', options.graceMs ?? GRACE_MS);
  await stopAll('SIGKILL', GRACE_MS);
  for (const c of ours) {
    await ctr(['tasks', 'delete', '--force', c.id], true, `remove the task of the kubelet's container ${c.id}`);
    await ctr(['containers', 'delete', c.id], true, `remove the kubelet's container ${c.id}`);
    if (c.netns) await removeNetns(host, c.netns);
  }
  return { removed: ours.map((c) => c.id) };
}

function parseInfo(id: string, json: string): ContainerInfo | undefined {
  try {
    const info = JSON.parse(json) as { Labels?: Record<string, string>; Spec?: { linux?: { namespaces?: { type?: string; path?: string }[] } } };
    const path = info.Spec?.linux?.namespaces?.find((n) => n.type === 'network')?.path;
    return { id, labels: info.Labels ?? {}, ...(path && /^\/(var\/)?run\/netns\/[^/]+$/.test(path) ? { netns: path } : {}) };
  } catch {
    return undefined;
  }
}

/** A sandbox's named network namespace (its pod's veth goes with it): `ip netns delete`, when it is still there. */
async function removeNetns(host: Host, path: string): Promise<void> {
  const name = path.split('/').pop()!;
  if ((await host.files.stat(`/run/netns/${name}`)) === undefined) return;
  await host.exec.run('ip', ['netns', 'delete', name], { allowFailure: true, describe: `remove the network namespace of a pod sandbox (${name})` });
}
