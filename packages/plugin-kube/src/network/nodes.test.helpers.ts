import { X509Certificate } from 'node:crypto';
import type { ApiAnswer, KubeClient, NodeApiOptions } from '../kubelet/api.js';
import { nodesApi, type NodesApi } from './nodes.js';

type Node = {
  metadata: { name: string; uid: string; creationTimestamp: string; resourceVersion: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
};
type Verb = 'list' | 'get' | 'create' | 'patch' | 'delete';

/**
 * A small in-memory Nodes API for the network steps' unit tests (the e2e tier runs them against the fake API
 * server): create (409 when it exists), get (404), list, JSON merge patch of labels and spec (spec.podCIDR settable
 * once; taints not by a node's certificate, as NodeRestriction; a resourceVersion in a patch is a precondition, 409), delete with a uid precondition (409). `allocate` plays the node-ipam controller: a new Node without a
 * range gets the next one. Every call is logged with who made it: the bearer token, or `cert <CN>` of a client
 * certificate.
 */
export class MemoryNodes {
  readonly nodes = new Map<string, Node>();
  readonly calls: { method: string; name?: string; token: string }[] = [];
  unreachable = false;
  /** Status to answer for every call of a method (e.g. 403 on list). */
  fail: Partial<Record<Verb, number>> = {};
  /** Status to answer for a method when the caller is `who` (a token): one identity denied, another allowed. */
  deny: { who: string; verb: Verb; status: number }[] = [];
  private uid = 0;
  private version = 100;
  private clock = Date.parse('2026-11-01T00:00:00Z');

  constructor(private readonly allocate?: () => string | undefined) {}

  /** A Node of another machine. */
  seed(name: string, podCIDRs: string[] = [], labels: Record<string, string> = {}): this {
    this.nodes.set(name, this.make(name, { ...(podCIDRs.length ? { podCIDR: podCIDRs[0], podCIDRs } : {}) }, labels));
    return this;
  }

  /** The API as an HTTP client (the operator's, in the steps). */
  client = (o: NodeApiOptions): KubeClient => ({
    call: async (method, path, body) => {
      if (this.unreachable) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      const c = await o.credential();
      const who =
        'token' in c
          ? c.token
          : `cert ${new X509Certificate(c.certPem).subject
              .split('\n')
              .find((f) => f.startsWith('CN='))
              ?.slice(3)}`;
      const name = /^\/api\/v1\/nodes\/([^/]+)$/.exec(path)?.[1];
      const json = body?.json as Record<string, unknown> | undefined;
      const verb: Verb = method === 'GET' ? (name ? 'get' : 'list') : method === 'POST' ? 'create' : method === 'PATCH' ? 'patch' : 'delete';
      const shown = verb === 'list' ? 'LIST' : method;
      const target = name ? decodeURIComponent(name) : verb === 'create' ? (json!.metadata as { name: string }).name : undefined;
      this.calls.push({ method: shown, ...(target ? { name: target } : {}), token: who });
      const status = this.deny.find((d) => d.who === who && d.verb === verb)?.status ?? this.fail[verb];
      // The API server's forbidden message for an authorizer's denial (apiserver responsewriters.Forbidden).
      if (status)
        return { status, body: { kind: 'Status', message: `nodes is forbidden: User "${who}" cannot ${verb} resource "nodes" in API group "" (${shown})` } };
      switch (verb) {
        case 'list':
          return { status: 200, body: { kind: 'NodeList', items: [...this.nodes.values()].map((n) => structuredClone(n)) } };
        case 'get':
          return this.get(target!);
        case 'create':
          return this.create(json!);
        case 'patch':
          // NodeRestriction (plugin/pkg/admission/noderestriction admitNode): a node user may not change taints.
          if (who.startsWith('cert system:node:') && (json!.spec as { taints?: unknown } | undefined)?.taints !== undefined) {
            const before = JSON.stringify(this.nodes.get(target!)?.spec.taints ?? null);
            if (JSON.stringify((json!.spec as { taints?: unknown }).taints) !== before)
              return { status: 403, body: { kind: 'Status', message: `node "${target}" is not allowed to modify taints` } };
          }
          return this.patch(target!, json!);
        case 'delete':
          return this.remove(target!, (json?.preconditions as { uid?: string } | undefined)?.uid);
      }
    },
  });

  /** The typed Nodes API (the node's, in the steps). */
  factory = (o: NodeApiOptions): NodesApi => nodesApi(this.client(o));

  private get(name: string): ApiAnswer {
    const n = this.nodes.get(name);
    return n ? { status: 200, body: structuredClone(n) } : { status: 404, body: { kind: 'Status', message: `nodes "${name}" not found` } };
  }

  private create(node: Record<string, unknown>): ApiAnswer {
    const meta = node.metadata as { name: string; labels?: Record<string, string> };
    if (this.nodes.has(meta.name)) return { status: 409, body: { kind: 'Status', reason: 'AlreadyExists', message: `nodes "${meta.name}" already exists` } };
    const spec = { ...(node.spec as Record<string, unknown>) };
    if (!spec.podCIDR && this.allocate) {
      const next = this.allocate();
      if (next) Object.assign(spec, { podCIDR: next, podCIDRs: [next] });
    }
    const made = this.make(meta.name, spec, meta.labels ?? {});
    this.nodes.set(meta.name, made);
    return { status: 201, body: structuredClone(made) };
  }

  private patch(name: string, patch: Record<string, unknown>): ApiAnswer {
    const n = this.nodes.get(name);
    if (!n) return { status: 404, body: { kind: 'Status', message: `nodes "${name}" not found` } };
    // A resourceVersion in a patch is a precondition (the API server's optimistic concurrency): 409 when it moved on.
    const expected = (patch.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
    if (expected !== undefined && expected !== n.metadata.resourceVersion) {
      return {
        status: 409,
        body: { kind: 'Status', reason: 'Conflict', message: `Operation cannot be fulfilled on nodes "${name}": the object has been modified` },
      };
    }
    n.metadata.resourceVersion = String(++this.version);
    const labels = (patch.metadata as { labels?: Record<string, string | null> } | undefined)?.labels ?? {};
    for (const [k, v] of Object.entries(labels)) {
      if (v === null) delete n.metadata.labels![k];
      else n.metadata.labels![k] = v;
    }
    const spec = patch.spec as { podCIDR?: string } | undefined;
    if (spec?.podCIDR !== undefined && n.spec.podCIDR && n.spec.podCIDR !== spec.podCIDR) {
      return { status: 422, body: { kind: 'Status', message: 'node updates may not change podCIDR except from "" to valid' } };
    }
    Object.assign(n.spec, spec ?? {});
    return { status: 200, body: structuredClone(n) };
  }

  private remove(name: string, uid?: string): ApiAnswer {
    const n = this.nodes.get(name);
    if (!n) return { status: 404, body: { kind: 'Status', message: `nodes "${name}" not found` } };
    if (uid && n.metadata.uid !== uid)
      return { status: 409, body: { kind: 'Status', reason: 'Conflict', message: 'Precondition failed: UID in precondition' } };
    this.nodes.delete(name);
    return { status: 200, body: { kind: 'Status', status: 'Success' } };
  }

  private make(name: string, spec: Record<string, unknown>, labels: Record<string, string>): Node {
    this.clock += 1000;
    return {
      metadata: {
        name,
        uid: `uid-${++this.uid}`,
        creationTimestamp: new Date(this.clock).toISOString().replace(/\.\d+Z$/, 'Z'),
        resourceVersion: String(++this.version),
        labels: { ...labels },
      },
      spec,
    };
  }
}

/** A node-ipam allocator handing out 10.244.<n>.0/24 in order. */
export function ipam(start = 0): () => string {
  let n = start;
  return () => `10.244.${n++}.0/24`;
}
