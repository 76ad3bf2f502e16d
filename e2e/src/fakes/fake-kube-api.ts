// FAKE Kubernetes API server (HTTPS, self-signed CA) with just what a kubelet registration and flexnode need:
// /version, Nodes (+ status subresource), node Leases, empty Pod lists. Bearer tokens are checked against an
// accept-list or a validator (e.g. tokens issued by the fake HIMDS). Errors are proper `Status` objects.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { jsonPatch, mergePatch } from './kube-patch.js';
import { FakeServer, type RecordedRequest } from './server-base.js';
import { fakeTls } from './tls.js';

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; creationTimestamp?: string;
    labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [k: string]: unknown;
};

export interface KubeRequestContext {
  user: string;
  verb: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface FakeKubeApiOptions {
  host?: string;
  port?: number;
  extraSans?: string[];
  /** gitVersion served at /version (default v1.31.2). */
  version?: string;
  /** Static bearer tokens accepted (user `token-user`). */
  tokens?: string[];
  /** Validator: false rejects (401); a string names the user. */
  acceptToken?: (token: string) => boolean | string;
  /** RBAC: return false for 403. */
  authorize?: (ctx: KubeRequestContext) => boolean;
}

const NODES = /^\/api\/v1\/nodes(?:\/([^/]+)(?:\/(status))?)?$/;
const LEASES = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/;
const PODS = /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?pods$/;
const VERBS: Record<string, string> = { GET: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

export class FakeKubeApi extends FakeServer {
  /** PEM of the self-signed serving cert, which is also the CA. */
  caPem = '';
  certPath = '';
  readonly tokens = new Set<string>();
  private rv = 1;
  private readonly store = new Map<string, KubeObject>(); // `${kind}/${ns}/${name}`

  private constructor(private readonly opts: FakeKubeApiOptions) {
    super('fake-kube-api');
    for (const t of opts.tokens ?? []) this.tokens.add(t);
  }

  static async start(opts: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
    const f = new FakeKubeApi(opts);
    const host = opts.host ?? '127.0.0.1';
    const tls = await fakeTls([...(opts.extraSans ?? []), ...(host !== '127.0.0.1' && host !== '0.0.0.0' ? [host] : [])]);
    f.caPem = tls.cert;
    f.certPath = tls.certPath;
    await f.listen(host, opts.port ?? 0, tls);
    return f;
  }

  /** base64 CA for a kubeconfig's certificate-authority-data. */
  get caData(): string {
    return Buffer.from(this.caPem).toString('base64');
  }

  nodes(): KubeObject[] {
    return this.list('Node');
  }

  node(name: string): KubeObject | undefined {
    return this.store.get(`Node//${name}`);
  }

  leases(): KubeObject[] {
    return this.list('Lease');
  }

  lease(name: string, namespace = 'kube-node-lease'): KubeObject | undefined {
    return this.store.get(`Lease/${namespace}/${name}`);
  }

  /** The Ready condition of a node, if reported. */
  readyCondition(name: string): Record<string, string> | undefined {
    const conds = (this.node(name)?.status?.conditions ?? []) as Record<string, string>[];
    return conds.find((c) => c.type === 'Ready');
  }

  private list(kind: string): KubeObject[] {
    return [...this.store.entries()].filter(([k]) => k.startsWith(`${kind}/`)).map(([, v]) => v);
  }

  protected handle(rec: RecordedRequest, _req: IncomingMessage, res: ServerResponse): void {
    const p = rec.path;
    if (rec.method === 'GET' && ['/healthz', '/livez', '/readyz'].includes(p)) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end('ok');
    }
    if (rec.method === 'GET' && p === '/version') return this.sendJson(res, 200, this.versionInfo());
    const user = this.authenticate(rec);
    if (!user) return this.sendError(res, rec, 401, 'Unauthorized', 'Unauthorized');
    if (p === '/api') return this.sendJson(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (p === '/apis') {
      return this.sendJson(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: 'coordination.k8s.io',
        versions: [{ groupVersion: 'coordination.k8s.io/v1', version: 'v1' }], preferredVersion: { groupVersion: 'coordination.k8s.io/v1', version: 'v1' } }] });
    }
    let m: RegExpExecArray | null;
    if ((m = NODES.exec(p))) return this.resource(rec, res, user, { kind: 'Node', resource: 'nodes', apiVersion: 'v1', name: m[1], sub: m[2] });
    if ((m = LEASES.exec(p))) {
      return this.resource(rec, res, user, { kind: 'Lease', resource: 'leases', apiVersion: 'coordination.k8s.io/v1', ns: m[1], name: m[2] });
    }
    if ((m = PODS.exec(p)) && rec.method === 'GET') {
      if (!this.allowed(rec, res, user, { verb: 'list', resource: 'pods', namespace: m[1] })) return;
      return this.sendJson(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items: [] });
    }
    this.sendError(res, rec, 404, 'NotFound', 'the server could not find the requested resource');
  }

  private authenticate(rec: RecordedRequest): string | undefined {
    const t = rec.bearer;
    if (!t) return undefined;
    if (this.tokens.has(t)) return 'token-user';
    const v = this.opts.acceptToken?.(t);
    if (!v) return undefined;
    return v === true ? 'token-user' : v;
  }

  private allowed(rec: RecordedRequest, res: ServerResponse, user: string, ctx: Omit<KubeRequestContext, 'user'>): boolean {
    if (!this.opts.authorize || this.opts.authorize({ user, ...ctx })) return true;
    const what = ctx.subresource ? `${ctx.resource}/${ctx.subresource}` : ctx.resource;
    const where = ctx.namespace ? `in the namespace "${ctx.namespace}"` : 'at the cluster scope';
    const group = ctx.resource === 'leases' ? 'coordination.k8s.io' : '';
    this.sendJson(res, 403, status(403, 'Forbidden',
      `${ctx.resource}${ctx.name ? ` "${ctx.name}"` : ''} is forbidden: User "${user}" cannot ${ctx.verb} resource "${what}" in API group "${group}" ${where}`,
      { name: ctx.name, kind: ctx.resource }));
    return false;
  }

  private resource(rec: RecordedRequest, res: ServerResponse, user: string,
    r: { kind: string; resource: string; apiVersion: string; ns?: string; name?: string; sub?: string }): void {
    const verb = !r.name && rec.method === 'GET' ? 'list' : (VERBS[rec.method] ?? rec.method.toLowerCase());
    if (!this.allowed(rec, res, user, { verb, resource: r.resource, subresource: r.sub, namespace: r.ns, name: r.name })) return;
    const key = (name: string) => `${r.kind}/${r.ns ?? ''}/${name}`;
    const notFound = () => this.sendJson(res, 404, status(404, 'NotFound', `${r.resource} "${r.name}" not found`, { name: r.name, kind: r.resource }));

    if (!r.name) {
      if (rec.method === 'GET') {
        const items = this.list(r.kind).filter((o) => !r.ns || o.metadata.namespace === r.ns).filter((o) => selects(o, rec.query));
        return this.sendJson(res, 200, { kind: `${r.kind}List`, apiVersion: r.apiVersion, metadata: { resourceVersion: String(this.rv) }, items });
      }
      if (rec.method !== 'POST') return this.methodNotAllowed(res);
      const body = rec.json as KubeObject | undefined;
      const name = body?.metadata?.name;
      if (!body || !name) {
        return this.sendJson(res, 422, status(422, 'Invalid', `${r.kind} "" is invalid: metadata.name: Required value: name or generateName is required`, { kind: r.kind }));
      }
      if (this.store.has(key(name))) {
        return this.sendJson(res, 409, status(409, 'AlreadyExists', `${r.resource} "${name}" already exists`, { name, kind: r.resource }));
      }
      const obj: KubeObject = { ...body, apiVersion: r.apiVersion, kind: r.kind,
        metadata: { ...body.metadata, ...(r.ns ? { namespace: r.ns } : {}), uid: randomUUID(), resourceVersion: String(++this.rv),
          creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } };
      this.store.set(key(name), obj);
      return this.sendJson(res, 201, obj);
    }

    const cur = this.store.get(key(r.name));
    if (!cur) return notFound();
    if (rec.method === 'GET') return this.sendJson(res, 200, cur);
    if (rec.method === 'DELETE') {
      this.store.delete(key(r.name));
      return this.sendJson(res, 200, { ...status(200, '', ''), status: 'Success', details: { name: r.name, kind: r.resource, uid: cur.metadata.uid } });
    }
    let next: KubeObject;
    if (rec.method === 'PUT') {
      const body = rec.json as KubeObject | undefined;
      if (!body?.metadata) return this.sendJson(res, 400, status(400, 'BadRequest', 'the body of the request was in an unknown format'));
      if (body.metadata.resourceVersion && body.metadata.resourceVersion !== cur.metadata.resourceVersion) {
        return this.sendJson(res, 409, status(409, 'Conflict',
          `Operation cannot be fulfilled on ${r.resource} "${r.name}": the object has been modified; please apply your changes to the latest version and try again`,
          { name: r.name, kind: r.resource }));
      }
      next = body;
    } else if (rec.method === 'PATCH') {
      const ct = String(rec.headers['content-type'] ?? '').split(';')[0].trim();
      try {
        if (ct === 'application/json-patch+json') next = jsonPatch(cur, rec.json as never) as KubeObject;
        else if (ct === 'application/merge-patch+json') next = mergePatch(cur, rec.json) as KubeObject;
        else if (ct === 'application/strategic-merge-patch+json') next = mergePatch(cur, rec.json, true) as KubeObject;
        else return this.sendJson(res, 415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (fake: not ${ct || 'none'})`));
      } catch (e) {
        return this.sendJson(res, 422, status(422, 'Invalid', `the patch could not be applied: ${(e as Error).message}`));
      }
    } else return this.methodNotAllowed(res);
    // The status subresource changes only status; the main resource never changes status.
    const merged: KubeObject = r.sub === 'status'
      ? { ...cur, status: next.status }
      : { ...next, ...(r.kind === 'Node' ? { status: cur.status } : {}) };
    merged.apiVersion = r.apiVersion;
    merged.kind = r.kind;
    merged.metadata = { ...merged.metadata, name: r.name, uid: cur.metadata.uid, creationTimestamp: cur.metadata.creationTimestamp,
      ...(r.ns ? { namespace: r.ns } : {}), resourceVersion: String(++this.rv) };
    this.store.set(key(r.name), merged);
    this.sendJson(res, 200, merged);
  }

  private methodNotAllowed(res: ServerResponse): void {
    this.sendJson(res, 405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
  }

  private versionInfo(): unknown {
    const v = this.opts.version ?? 'v1.31.2';
    const mm = /^v(\d+)\.(\d+)/.exec(v);
    return { major: mm?.[1] ?? '1', minor: mm?.[2] ?? '31', gitVersion: v, gitCommit: 'fake', gitTreeState: 'clean',
      buildDate: '2024-01-01T00:00:00Z', goVersion: 'go1.22 (fake)', compiler: 'gc', platform: 'linux/amd64' };
  }

  protected errorBody(code: number, _rec: RecordedRequest, reason?: string, message?: string): unknown {
    const reasons: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable' };
    return status(code, reason ?? reasons[code] ?? 'Unknown', message ?? `${reason ?? reasons[code] ?? 'error'} (fake Kubernetes API)`);
  }
}

function status(code: number, reason: string, message: string, details?: Record<string, unknown>): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

/** labelSelector (k=v, k!=v, k, !k) and fieldSelector metadata.name=x. */
function selects(o: KubeObject, q: Record<string, string>): boolean {
  const labels = o.metadata.labels ?? {};
  for (const term of (q.labelSelector ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    let m: RegExpExecArray | null;
    if ((m = /^([^!=]+)!=(.*)$/.exec(term))) { if (labels[m[1]] === m[2]) return false; }
    else if ((m = /^([^=]+)==?(.*)$/.exec(term))) { if (labels[m[1]] !== m[2]) return false; }
    else if (term.startsWith('!')) { if (term.slice(1) in labels) return false; }
    else if (!(term in labels)) return false;
  }
  const name = /metadata\.name=([^,]+)/.exec(q.fieldSelector ?? '')?.[1];
  return !name || o.metadata.name === name;
}
