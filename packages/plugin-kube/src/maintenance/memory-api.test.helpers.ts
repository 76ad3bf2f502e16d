// An in-memory API server for unit tests of the maintenance code: Nodes (merge patches), pods bound to nodes, the
// Eviction API with PodDisruptionBudgets reduced to "these pods may not be disrupted now" (429 with the
// DisruptionBudget cause, as eviction.go answers), Leases with resourceVersion (409 on a stale one), /version.
// The e2e fake (e2e/src/fakes/fake-kube-api.ts) is the faithful one; this is for fast, exact unit tests.
import type { ApiAnswer } from '../kubelet/api.js';
import type { KubeApi } from './api.js';

type Obj = Record<string, any>;

export class MemoryKubeApi implements KubeApi {
  readonly nodes = new Map<string, Obj>();
  readonly pods: Obj[] = [];
  readonly leases = new Map<string, Obj>();
  /** Pods (ns/name) a PodDisruptionBudget protects now: their evictions answer 429. */
  readonly budgets = new Map<string, string>();
  readonly calls: string[] = [];
  /** Evicted pods stay (terminating) until {@link terminate}: no kubelet here unless `kubeletStops`. */
  kubeletStops = true;
  unreachable = false;
  gitVersion = 'v1.31.2';
  private rv = 1;

  addNode(name: string, ready = true): this {
    this.nodes.set(name, {
      metadata: { name, annotations: {} },
      spec: {},
      status: {
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'KubeletReady' : 'KubeletNotReady' }],
        nodeInfo: { kubeletVersion: 'v1.30.4' },
      },
    });
    return this;
  }

  addPod(p: { name: string; namespace?: string; node: string; controller?: string; mirror?: boolean; budget?: string }): this {
    const namespace = p.namespace ?? 'default';
    this.pods.push({
      metadata: {
        name: p.name,
        namespace,
        uid: `uid-${p.name}`,
        annotations: p.mirror ? { 'kubernetes.io/config.mirror': 'x' } : {},
        ownerReferences: p.controller ? [{ kind: p.controller, controller: true }] : [],
      },
      spec: { nodeName: p.node },
      status: { phase: 'Running' },
    });
    if (p.budget) this.budgets.set(`${namespace}/${p.name}`, p.budget);
    return this;
  }

  /** The kubelet stops a terminating pod and deletes it. */
  terminate(namespace: string, name: string): void {
    const i = this.pods.findIndex((p) => p.metadata.namespace === namespace && p.metadata.name === name);
    if (i >= 0) this.pods.splice(i, 1);
  }

  podNames(node: string): string[] {
    return this.pods.filter((p) => p.spec.nodeName === node).map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
  }

  private async answer(call: string, fn: () => ApiAnswer): Promise<ApiAnswer> {
    this.calls.push(call);
    if (this.unreachable) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    return fn();
  }

  list() {
    return this.answer('LIST nodes', () => ok({ items: structuredClone([...this.nodes.values()]) }));
  }

  get(name: string) {
    return this.answer(`GET node ${name}`, () => (this.nodes.has(name) ? ok(structuredClone(this.nodes.get(name)!)) : notFound()));
  }

  create(node: Record<string, unknown>) {
    const name = String((node.metadata as Obj | undefined)?.name);
    return this.answer(`CREATE node ${name}`, () => {
      if (this.nodes.has(name)) return { status: 409, body: { message: 'AlreadyExists' } };
      this.nodes.set(name, structuredClone(node) as Obj);
      return { status: 201, body: structuredClone(node) };
    });
  }

  delete(name: string) {
    return this.answer(`DELETE node ${name}`, () => (this.nodes.delete(name) ? ok({}) : notFound()));
  }

  patch(name: string, patch: Record<string, unknown>) {
    return this.answer(`PATCH node ${name} ${JSON.stringify(patch)}`, () => {
      const node = this.nodes.get(name);
      if (!node) return notFound();
      mergePatch(node, patch);
      return ok(structuredClone(node));
    });
  }

  listNodePods(node: string) {
    return this.answer(`LIST pods ${node}`, () => ok({ items: structuredClone(this.pods.filter((p) => p.spec.nodeName === node)) }));
  }

  evictPod(namespace: string, name: string) {
    return this.answer(`EVICT ${namespace}/${name}`, () => {
      const pod = this.pods.find((p) => p.metadata.namespace === namespace && p.metadata.name === name);
      if (!pod) return notFound();
      const budget = this.budgets.get(`${namespace}/${name}`);
      if (budget && !pod.metadata.deletionTimestamp) {
        return {
          status: 429,
          body: {
            kind: 'Status',
            code: 429,
            message: "Cannot evict pod as it would violate the pod's disruption budget.",
            details: { causes: [{ type: 'DisruptionBudget', message: `The disruption budget ${budget} needs 1 healthy pods and has 1 currently` }] },
          },
        };
      }
      pod.metadata.deletionTimestamp = new Date().toISOString();
      if (this.kubeletStops) this.terminate(namespace, name);
      return { status: 201, body: { kind: 'Status', status: 'Success' } };
    });
  }

  getLease(namespace: string, name: string) {
    return this.answer(`GET lease ${name}`, () => {
      const l = this.leases.get(`${namespace}/${name}`);
      return l ? ok(structuredClone(l)) : notFound();
    });
  }

  createLease(namespace: string, lease: Record<string, unknown>) {
    const name = String((lease.metadata as Obj).name);
    return this.answer(`CREATE lease ${name}`, () => {
      if (this.leases.has(`${namespace}/${name}`)) return { status: 409, body: { message: 'AlreadyExists' } };
      const stored = { ...structuredClone(lease), metadata: { ...(lease.metadata as Obj), resourceVersion: String(this.rv++) } };
      this.leases.set(`${namespace}/${name}`, stored);
      return { status: 201, body: structuredClone(stored) };
    });
  }

  updateLease(namespace: string, name: string, lease: Record<string, unknown>) {
    return this.answer(`UPDATE lease ${name} ${String((lease.spec as Obj | undefined)?.holderIdentity ?? '-')}`, () => {
      const cur = this.leases.get(`${namespace}/${name}`);
      if (!cur) return notFound();
      if ((lease.metadata as Obj)?.resourceVersion !== cur.metadata.resourceVersion) return { status: 409, body: { message: 'the object has been modified' } };
      const stored = { ...structuredClone(lease), metadata: { ...(lease.metadata as Obj), resourceVersion: String(this.rv++) } };
      this.leases.set(`${namespace}/${name}`, stored);
      return ok(structuredClone(stored));
    });
  }

  version() {
    return this.answer('GET /version', () => ok({ gitVersion: this.gitVersion }));
  }
}

const ok = (body: Obj): ApiAnswer => ({ status: 200, body });
const notFound = (): ApiAnswer => ({ status: 404, body: { message: 'not found' } });

/** RFC 7386: objects merge, null deletes, anything else replaces. */
function mergePatch(target: Obj, patch: Obj): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else if (typeof v === 'object' && !Array.isArray(v) && typeof target[k] === 'object' && target[k] !== null) mergePatch(target[k], v as Obj);
    else target[k] = structuredClone(v);
  }
}
