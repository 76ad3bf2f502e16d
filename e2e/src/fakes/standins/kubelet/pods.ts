// The kubelet STAND-IN's pod lifecycle: the pods bound to the node (watched with fieldSelector spec.nodeName=<node>)
// run for real as containerd containers (./runtime.ts); their status is patched (PATCH pods/<name>/status) as the
// status manager does; a pod being deleted (deletionTimestamp: an eviction, a drain, kubectl delete) has its
// containers stopped (TERM, then KILL) and removed, then the kubelet deletes it with grace 0 and a uid precondition;
// a pod gone from the API has its containers removed; containers of pods the API no longer has are removed at
// start (orphans). A stopped kubelet leaves every container running, as the real one does. Mirror pods are never
// run from the API (a kubelet runs static pods from files). Deliberately unlike the real kubelet, the stand-in runs
// no static pods and leaves mirror pods it did not create alone (the real one deletes such orphaned mirror pods), so
// tests can seed mirror pods for drain scenarios.
import type { ApiClient } from './api.js';
import { log, rfc3339, type Dict } from './common.js';
import { postEvent } from './node.js';
import { InputResolver, MissingInput } from './pod-inputs.js';
import { containerId, POD_UID_LABEL, type Ctr } from './runtime.js';

type Any = Record<string, any>;

const MIRROR = 'kubernetes.io/config.mirror';

interface PodState {
  pod: Any;
  state: 'waiting' | 'running' | 'terminated' | 'terminating';
  /** Why it waits (reason, message), to patch status only on change. */
  waiting?: { reason: string; message: string };
  containers: { name: string; id: string; restarts: number; startedAt: string }[];
  lastStatus?: string;
}

export class PodManager {
  private readonly pods = new Map<string, PodState>();
  private readonly queue = new Map<string, Promise<void>>();
  private listed = false;
  readonly inputs: InputResolver;

  constructor(
    private readonly api: ApiClient,
    private readonly ctr: Ctr,
    private readonly node: { name: string; hostIP: string; rootDir: string },
    private readonly runtimeUp: () => boolean,
    private readonly network: () => { ok: boolean; message: string },
  ) {
    this.inputs = new InputResolver(api, node.rootDir, node.name, node.hostIP);
  }

  /** Serialise the work on one pod. */
  private enqueue(uid: string, work: () => Promise<void>): void {
    const prev = this.queue.get(uid) ?? Promise.resolve();
    const next = prev.then(work).catch((e) => log('E', `pod work failed: ${(e as Error).message}`));
    this.queue.set(uid, next);
    void next.finally(() => {
      if (this.queue.get(uid) === next) this.queue.delete(uid);
    });
  }

  onList(items: Dict[]): void {
    const seen = new Set<string>();
    for (const p of items as Any[]) {
      seen.add(p.metadata.uid);
      this.upsert(p);
    }
    for (const uid of [...this.pods.keys()]) if (!seen.has(uid)) this.gone(uid);
    if (!this.listed) {
      this.listed = true;
      void this.removeOrphans(seen);
    }
  }

  onEvent(type: string, p: Dict): void {
    if (type === 'DELETED') this.gone(String((p.metadata as Dict).uid));
    else if (type === 'ADDED' || type === 'MODIFIED') this.upsert(p as Any);
  }

  private upsert(p: Any): void {
    const uid = p.metadata.uid as string;
    if (p.metadata.annotations?.[MIRROR] !== undefined) return;
    const cur = this.pods.get(uid);
    if (cur) cur.pod = p;
    const st = cur ?? { pod: p, state: 'waiting' as const, containers: [] };
    if (!cur) this.pods.set(uid, st);
    if (p.metadata.deletionTimestamp) {
      if (st.state !== 'terminating') {
        st.state = 'terminating';
        this.enqueue(uid, () => this.terminate(st, true));
      }
      return;
    }
    if (['Succeeded', 'Failed'].includes(p.status?.phase) && st.state !== 'running') return;
    if (st.state === 'waiting' && !cur) this.enqueue(uid, () => this.start(st));
  }

  private gone(uid: string): void {
    const st = this.pods.get(uid);
    if (!st) return;
    if (st.state !== 'terminating') {
      st.state = 'terminating';
      this.enqueue(uid, () => this.terminate(st, false));
    }
  }

  /** Periodic work: retry waiting pods, notice stopped containers and restart them per restartPolicy. */
  async sync(): Promise<void> {
    const tasks = this.runtimeUp() ? await this.ctr.tasks() : new Map<string, string>();
    for (const st of this.pods.values()) {
      const uid = st.pod.metadata.uid;
      if (st.state === 'waiting') this.enqueue(uid, () => this.start(st));
      else if (st.state === 'running') {
        const stopped = st.containers.filter((c) => tasks.get(c.id) !== 'RUNNING');
        if (!stopped.length) continue;
        const policy = st.pod.spec.restartPolicy ?? 'Always';
        this.enqueue(uid, async () => {
          if (st.state !== 'running') return;
          if (policy === 'Always') {
            for (const c of stopped) {
              await this.ctr.restart(c.id);
              c.restarts++;
              c.startedAt = rfc3339();
            }
            await this.reportStatus(st);
          } else {
            st.state = 'terminated';
            await this.reportStatus(st, 'Succeeded');
          }
        });
      }
    }
  }

  private async start(st: PodState): Promise<void> {
    const p = st.pod;
    if (st.state !== 'waiting') return;
    if (!this.runtimeUp()) return this.wait(st, 'ContainerCreating', 'container runtime is down');
    const net = this.network();
    if (!net.ok && !p.spec.hostNetwork) {
      // pkg/kubelet: pods on the pod network wait for NetworkReady ("network is not ready: ...")
      const msg = `network is not ready: ${net.message}`;
      if (st.waiting?.message !== msg) await this.event(p, 'NetworkNotReady', msg, 'Warning');
      return this.wait(st, 'ContainerCreating', msg);
    }
    let inputs;
    try {
      inputs = await this.inputs.resolve(p);
    } catch (e) {
      if (!(e instanceof MissingInput)) throw e;
      if (e.event && st.waiting?.message !== e.message) await this.event(p, e.event.reason, e.event.message, 'Warning');
      return this.wait(st, e.reason, e.message);
    }
    const existing = new Set((await this.ctr.containers()).map((c) => c.id));
    for (const c of (p.spec.containers ?? []) as Any[]) {
      if (!(await this.ctr.hasImage(c.image))) {
        const msg = `Failed to pull image "${c.image}": the kubelet stand-in does not pull images: import it with \`ctr -n k8s.io images import\``;
        if (st.waiting?.reason !== 'ErrImagePull') await this.event(p, 'Failed', msg, 'Warning');
        return this.wait(st, 'ErrImagePull', msg);
      }
    }
    if (st.state !== 'waiting') return;
    for (const c of (p.spec.containers ?? []) as Any[]) {
      const id = containerId(p.metadata.uid, c.name);
      if (!existing.has(id)) {
        const r = await this.ctr.start({
          id,
          image: c.image,
          env: inputs.env.get(c.name) ?? [],
          mounts: inputs.mounts.get(c.name) ?? [],
          args: [...(c.command ?? []), ...(c.args ?? [])],
          labels: {
            [POD_UID_LABEL]: p.metadata.uid,
            'io.kubernetes.pod.name': p.metadata.name,
            'io.kubernetes.pod.namespace': p.metadata.namespace,
            'io.kubernetes.container.name': c.name,
          },
        });
        if (r.code !== 0) return this.wait(st, 'CreateContainerError', r.stderr.trim().split('\n').pop() ?? 'ctr run failed');
        await this.event(p, 'Pulled', `Container image "${c.image}" already present on machine`);
        await this.event(p, 'Created', `Created container: ${c.name}`);
        await this.event(p, 'Started', `Started container ${c.name}`);
      }
      st.containers.push({ name: c.name, id, restarts: 0, startedAt: rfc3339() });
    }
    st.state = 'running';
    st.waiting = undefined;
    log('I', `Pod ${p.metadata.namespace}/${p.metadata.name} is running (${st.containers.map((c) => c.id).join(', ')})`);
    await this.reportStatus(st);
  }

  private async wait(st: PodState, reason: string, message: string): Promise<void> {
    if (st.waiting?.reason === reason && st.waiting.message === message) return;
    st.waiting = { reason, message };
    log('W', `Pod ${st.pod.metadata.namespace}/${st.pod.metadata.name} waits: ${reason}: ${message}`);
    await this.reportStatus(st);
  }

  private async terminate(st: PodState, deleteFromApi: boolean): Promise<void> {
    const p = st.pod;
    const grace = Math.min(Number(p.metadata.deletionGracePeriodSeconds ?? p.spec.terminationGracePeriodSeconds ?? 30), 3) * 1000;
    const ids = new Set(st.containers.map((c) => c.id));
    if (this.runtimeUp()) for (const c of await this.ctr.containers()) if (c.labels[POD_UID_LABEL] === p.metadata.uid) ids.add(c.id);
    for (const id of ids) {
      const name = st.containers.find((c) => c.id === id)?.name ?? id;
      if (deleteFromApi) await this.event(p, 'Killing', `Stopping container ${name}`);
      await this.ctr.remove(id, grace);
    }
    this.inputs.removePodDir(p.metadata.uid);
    this.pods.delete(p.metadata.uid);
    log('I', `Pod ${p.metadata.namespace}/${p.metadata.name}: containers stopped and removed`);
    if (deleteFromApi) await this.deleteFromApi(p, 'terminated');
  }

  /** The status manager's final delete: grace 0, only this incarnation (uid precondition). */
  private async deleteFromApi(p: Any, why: string): Promise<void> {
    const r = await this.api.call('DELETE', `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`, {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      gracePeriodSeconds: 0,
      preconditions: { uid: p.metadata.uid },
    });
    if (r.status !== 200 && r.status !== 404 && r.status !== 409)
      log('E', `failed to delete ${why} pod ${p.metadata.name}: HTTP ${r.status}: ${String(r.json.message ?? '')}`);
  }

  private async removeOrphans(known: Set<string>): Promise<void> {
    if (!this.runtimeUp()) return;
    for (const c of await this.ctr.containers()) {
      const uid = c.labels[POD_UID_LABEL];
      if (uid && !known.has(uid)) {
        log('I', `Removing container ${c.id} of pod uid ${uid}, which the API server no longer has`);
        await this.ctr.remove(c.id, 1000);
        this.inputs.removePodDir(uid);
      }
    }
  }

  private async reportStatus(st: PodState, terminal?: 'Succeeded' | 'Failed'): Promise<void> {
    const p = st.pod;
    const now = rfc3339();
    const running = st.state === 'running' && !terminal;
    const cond = (type: string, ok: boolean) => ({ type, status: ok ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: now });
    const status = {
      phase: terminal ?? (running ? 'Running' : 'Pending'),
      hostIP: this.node.hostIP,
      hostIPs: this.node.hostIP ? [{ ip: this.node.hostIP }] : [],
      startTime: p.status?.startTime ?? now,
      conditions: [
        cond('PodReadyToStartContainers', running),
        cond('Initialized', true),
        cond('Ready', running),
        cond('ContainersReady', running),
        cond('PodScheduled', true),
      ],
      containerStatuses: ((p.spec.containers ?? []) as Any[]).map((c) => {
        const rc = st.containers.find((x) => x.name === c.name);
        return {
          name: c.name,
          image: c.image,
          imageID: '',
          ready: running && !!rc,
          restartCount: rc?.restarts ?? 0,
          started: running && !!rc,
          ...(rc ? { containerID: `containerd://${rc.id}` } : {}),
          state:
            running && rc
              ? { running: { startedAt: rc.startedAt } }
              : terminal
                ? { terminated: { exitCode: 0, reason: 'Completed', startedAt: rc?.startedAt, finishedAt: now } }
                : { waiting: { reason: st.waiting?.reason ?? 'ContainerCreating', ...(st.waiting?.message ? { message: st.waiting.message } : {}) } },
        };
      }),
    };
    const key = JSON.stringify({
      ...status,
      startTime: '',
      conditions: status.conditions.map((c) => [c.type, c.status]),
      containerStatuses: status.containerStatuses.map((c) => [c.name, c.ready, c.restartCount, Object.keys(c.state)[0]]),
    });
    if (key === st.lastStatus) return;
    st.lastStatus = key;
    const r = await this.api.call(
      'PATCH',
      `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}/status`,
      { status },
      'application/strategic-merge-patch+json',
    );
    if (r.status !== 200 && r.status !== 404) log('E', `failed to update status of pod ${p.metadata.name}: HTTP ${r.status}: ${String(r.json.message ?? '')}`);
  }

  private event(p: Any, reason: string, message: string, type = 'Normal'): Promise<void> {
    return postEvent(
      this.api,
      p.metadata.namespace,
      { kind: 'Pod', name: p.metadata.name, uid: p.metadata.uid, apiVersion: 'v1', fieldPath: 'spec.containers{main}' },
      reason,
      message,
      this.node.name,
      type,
    );
  }

  /** Pods this kubelet knows (for its /pods endpoint). */
  list(): Any[] {
    return [...this.pods.values()].map((s) => s.pod);
  }
}
