// The container runtime side of the kubelet STAND-IN: containerd through its `ctr` CLI in the k8s.io namespace (the
// namespace the CRI plugin uses, where a real kubelet's containers live), on the socket of
// --container-runtime-endpoint. Pod containers carry the CRI labels (io.kubernetes.pod.uid, .name, .namespace,
// io.kubernetes.container.name) so tests and cleanup can find them. No pod sandbox (pause) and no CNI: the stand-in
// runs the containers, not the pod network. It never pulls: an image must have been imported.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const NAMESPACE = 'k8s.io';
export const POD_UID_LABEL = 'io.kubernetes.pod.uid';

export interface ContainerInfo {
  id: string;
  labels: Record<string, string>;
}

/** Image references as containerd stores them (docker.io/library/x:latest). */
export function normalizeImage(ref: string): string {
  let r = ref;
  if (!/[:@]/.test(r.split('/').pop() ?? '')) r += ':latest';
  const first = r.split('/')[0]!;
  if (!r.includes('/')) r = `docker.io/library/${r}`;
  else if (!first.includes('.') && !first.includes(':') && first !== 'localhost') r = `docker.io/${r}`;
  return r;
}

/** A containerd id for a pod's container: k8s_<container hash>_<pod uid hex> (ids are at most 76 characters). */
export function containerId(podUid: string, container: string): string {
  return `k8s_${createHash('sha1').update(container).digest('hex').slice(0, 8)}_${podUid.replace(/-/g, '')}`;
}

export class Ctr {
  readonly bin: string | undefined;

  constructor(private readonly socket: string) {
    this.bin =
      process.env.KUBELET_STANDIN_CTR ??
      [...(process.env.PATH ?? '').split(delimiter), '/usr/local/bin', '/usr/bin'].map((d) => join(d, 'ctr')).find((p) => existsSync(p));
  }

  run(args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
    if (!this.bin) return Promise.resolve({ code: 127, stdout: '', stderr: 'ctr: not found in PATH' });
    return new Promise((resolve) => {
      execFile(this.bin!, ['--address', this.socket, '--namespace', NAMESPACE, ...args], { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) || 1 : 0, stdout: String(stdout), stderr: String(stderr) }),
      );
    });
  }

  /** The runtime's version, or undefined when it does not answer. */
  async version(): Promise<string | undefined> {
    const r = await this.run(['version'], 5000);
    if (r.code !== 0) return undefined;
    return /Server:[\s\S]*?Version:\s*(\S+)/.exec(r.stdout)?.[1] ?? 'unknown';
  }

  async hasImage(ref: string): Promise<boolean> {
    const r = await this.run(['images', 'ls', '-q']);
    return (
      r.code === 0 &&
      r.stdout
        .split('\n')
        .map((l) => l.trim())
        .includes(normalizeImage(ref))
    );
  }

  async containers(): Promise<ContainerInfo[]> {
    const r = await this.run(['containers', 'ls', '-q']);
    if (r.code !== 0) return [];
    const out: ContainerInfo[] = [];
    for (const id of r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)) {
      const info = await this.run(['containers', 'info', id]);
      if (info.code !== 0) continue;
      try {
        out.push({ id, labels: (JSON.parse(info.stdout) as { Labels?: Record<string, string> }).Labels ?? {} });
      } catch {
        /* not JSON: skip */
      }
    }
    return out;
  }

  /** id -> task status (RUNNING, STOPPED, CREATED, PAUSED...). */
  async tasks(): Promise<Map<string, string>> {
    const r = await this.run(['tasks', 'ls']);
    const m = new Map<string, string>();
    for (const line of r.stdout.split('\n').slice(1)) {
      const [id, , status] = line.trim().split(/\s+/);
      if (id && status) m.set(id, status);
    }
    return m;
  }

  /** Create and start a detached container. */
  async start(c: {
    id: string;
    image: string;
    labels: Record<string, string>;
    env: string[];
    mounts: { src: string; dst: string; ro: boolean }[];
    args: string[];
  }): Promise<{ code: number; stderr: string }> {
    const flags = [
      'run',
      '-d',
      '--null-io',
      ...Object.entries(c.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
      ...c.env.flatMap((e) => ['--env', e]),
      ...c.mounts.flatMap((m) => ['--mount', `type=bind,src=${m.src},dst=${m.dst},options=rbind:${m.ro ? 'ro' : 'rw'}`]),
      normalizeImage(c.image),
      c.id,
      ...c.args,
    ];
    return this.run(flags);
  }

  async restart(id: string): Promise<void> {
    await this.run(['tasks', 'delete', '--force', id]);
    await this.run(['tasks', 'start', '-d', '--null-io', id]);
  }

  /** Stop (TERM, then KILL after `graceMs`) and remove a container and its task. */
  async remove(id: string, graceMs: number): Promise<void> {
    const tasks = await this.tasks();
    if (tasks.get(id) === 'RUNNING') {
      await this.run(['tasks', 'kill', '--all', '--signal', 'SIGTERM', id]);
      const end = Date.now() + graceMs;
      while (Date.now() < end && (await this.tasks()).get(id) === 'RUNNING') await new Promise((r) => setTimeout(r, 200));
      if ((await this.tasks()).get(id) === 'RUNNING') await this.run(['tasks', 'kill', '--all', '--signal', 'SIGKILL', id]);
    }
    await this.run(['tasks', 'delete', '--force', id]);
    await this.run(['containers', 'delete', id]);
  }
}
