// The generic REST verbs of the FAKE API server's registry (k8s.io/apiserver/pkg/registry/generic/registry/store.go
// and endpoints/handlers): create (generateName, 409 AlreadyExists), get, list with label/field selectors, watch
// (ADDED/MODIFIED/DELETED lines, from a resourceVersion), update (PUT: resourceVersion precondition, 409 Conflict on a
// stale one, status kept by the main resource and spec kept by /status), patch (JSON merge, strategic merge, JSON
// patch; a resourceVersion in the patch is a precondition too), delete (preconditions, finalizers, graceful pod
// deletion: the pod stays with deletionTimestamp until its kubelet deletes it with grace 0 or it never ran).
import { randomBytes } from 'node:crypto';
import { apiVersionOf, type ApiResource } from './api-resources.js';
import type { AdmissionRequest } from './node-restriction.js';
import { jsonPatch, mergePatch } from './patch.js';
import { fieldMatcher, labelsMatch, parseLabelSelector } from './selectors.js';
import { deletedStatus, errors } from './status.js';
import type { ObjectStore, StoreEvent } from './store.js';
import {
  podGracePeriod,
  prepareForCreate,
  REQUIRES_RESOURCE_VERSION,
  RETURNS_DELETED_OBJECT,
  stringDataToData,
  validate,
  validateName,
  type Cause,
} from './strategies.js';
import type { KubeObject, UserInfo } from './types.js';

export interface RestContext {
  store: ObjectStore;
  user: UserInfo;
  /** The admission chain (mutating then validating); throws the first refusal. */
  admit(req: AdmissionRequest): void;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const generated = (prefix: string) => prefix + [...randomBytes(5)].map((b) => GENERATE_ALPHABET[b % GENERATE_ALPHABET.length]).join('');

function invalid(res: ApiResource, name: string, causes: Cause[]): never {
  throw errors.invalid(res.kind, res.group, name, causes);
}

function withoutTypeMeta(o: KubeObject): KubeObject {
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return rest as KubeObject;
}

export function list(ctx: RestContext, res: ApiResource, ns: string, query: Record<string, string>): Reply {
  const labels = parseLabelSelector(query.labelSelector);
  const fields = fieldMatcher(res.resource, query.fieldSelector);
  const items = ctx.store.list(res, ns).filter((o) => labelsMatch(labels, o.metadata.labels) && fields(o));
  return {
    status: 200,
    body: {
      kind: `${res.kind}List`,
      apiVersion: apiVersionOf(res),
      metadata: { resourceVersion: ctx.store.resourceVersion },
      items: items.map(withoutTypeMeta),
    },
  };
}

export function get(ctx: RestContext, res: ApiResource, ns: string, name: string): Reply {
  const o = ctx.store.get(res, ns, name);
  if (!o) throw errors.notFound(res.resource, res.group, name);
  return { status: 200, body: o };
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'ERROR' | 'BOOKMARK';
  object: unknown;
}

/**
 * Start a watch. Without a resourceVersion (or "0") the current objects come first as ADDED, as the API server
 * synthesizes them; with one, what happened after it. An object leaving the selector is a DELETED for this watch.
 */
export function watch(ctx: RestContext, res: ApiResource, ns: string, query: Record<string, string>, send: (e: WatchEvent) => void): () => void {
  const labels = parseLabelSelector(query.labelSelector);
  const fields = fieldMatcher(res.resource, query.fieldSelector);
  const sel = (o: KubeObject | undefined) => !!o && labelsMatch(labels, o.metadata.labels) && fields(o);
  const rv = query.resourceVersion && query.resourceVersion !== '0' ? Number(query.resourceVersion) : 0;
  if (!rv) for (const o of ctx.store.list(res, ns)) if (sel(o)) send({ type: 'ADDED', object: o });
  const from = rv || Number(ctx.store.resourceVersion);
  return ctx.store.watch(res, ns, from, (e: StoreEvent) => {
    const now = e.type !== 'DELETED' && sel(e.object);
    const before = e.type === 'ADDED' ? false : sel(e.old ?? e.object);
    if (e.type === 'DELETED') {
      if (before) send({ type: 'DELETED', object: e.object });
      return;
    }
    if (now && before) send({ type: 'MODIFIED', object: e.object });
    else if (now) send({ type: 'ADDED', object: e.object });
    else if (before) send({ type: 'DELETED', object: e.object });
  });
}

export function create(ctx: RestContext, res: ApiResource, ns: string, body: unknown): Reply {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('the body of the request was in an unknown format');
  const o = structuredClone(body) as KubeObject;
  o.metadata = { ...(o.metadata ?? {}) } as KubeObject['metadata'];
  if (res.namespaced) {
    if (o.metadata.namespace && o.metadata.namespace !== ns)
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    o.metadata.namespace = ns;
  }
  if (!o.metadata.name && o.metadata.generateName) o.metadata.name = generated(o.metadata.generateName);
  const nameCauses = validateName(res, o.metadata.name ?? '');
  if (nameCauses.length) invalid(res, o.metadata.name ?? '', nameCauses);
  for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const)
    delete o.metadata[k];
  prepareForCreate(res, o, { user: ctx.user });
  ctx.admit({ user: ctx.user, operation: 'create', res, subresource: '', namespace: ns, name: o.metadata.name, object: o });
  const causes = validate(res, o);
  if (causes.length) invalid(res, o.metadata.name, causes);
  return { status: 201, body: ctx.store.create(res, o) };
}

/** PUT of the object or of its status subresource. */
export function update(ctx: RestContext, res: ApiResource, ns: string, name: string, sub: string, body: unknown): Reply {
  const cur = ctx.store.get(res, ns, name);
  if (!cur) throw errors.notFound(res.resource, res.group, name);
  const next = structuredClone(body) as KubeObject;
  if (!next?.metadata) throw errors.badRequest('the body of the request was in an unknown format');
  if (next.metadata.name && next.metadata.name !== name)
    throw errors.badRequest(`the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`);
  if (!next.metadata.resourceVersion && REQUIRES_RESOURCE_VERSION.has(res.resource)) {
    invalid(res, name, [{ field: 'metadata.resourceVersion', type: 'Invalid value', value: 0, detail: 'must be specified for an update' }]);
  }
  return store(ctx, res, cur, next, sub);
}

export function patch(ctx: RestContext, res: ApiResource, ns: string, name: string, sub: string, contentType: string, body: unknown): Reply {
  const cur = ctx.store.get(res, ns, name);
  if (!cur) throw errors.notFound(res.resource, res.group, name);
  let next: KubeObject;
  try {
    if (contentType === 'application/json-patch+json') next = jsonPatch(cur, body as never) as KubeObject;
    else if (contentType === 'application/merge-patch+json') next = mergePatch(cur, body) as KubeObject;
    else if (contentType === 'application/strategic-merge-patch+json') next = mergePatch(cur, body, true) as KubeObject;
    else throw errors.unsupportedMediaType(contentType || 'none');
  } catch (e) {
    if ((e as { status?: unknown }).status) throw e;
    throw errors.invalid(res.kind, res.group, name, [{ field: '', type: 'Invalid value', detail: `the patch could not be applied: ${(e as Error).message}` }]);
  }
  return store(ctx, res, cur, next, sub);
}

function store(ctx: RestContext, res: ApiResource, cur: KubeObject, next: KubeObject, sub: string): Reply {
  const name = cur.metadata.name;
  if (next.metadata.resourceVersion && next.metadata.resourceVersion !== cur.metadata.resourceVersion) {
    throw errors.staleUpdate(res.resource, res.group, name);
  }
  if (res.resource === 'secrets') stringDataToData(next);
  let merged: KubeObject;
  if (sub === 'status')
    merged = { ...cur, metadata: { ...cur.metadata, labels: next.metadata.labels, annotations: next.metadata.annotations }, status: next.status };
  else if (sub === 'approval') {
    merged = { ...cur, status: { ...(cur.status ?? {}), conditions: (next.status as { conditions?: unknown } | undefined)?.conditions } };
  } else {
    merged = { ...next, metadata: { ...next.metadata, name, namespace: cur.metadata.namespace } };
    if (res.subresources.includes('status') || res.resource === 'certificatesigningrequests') merged.status = cur.status;
  }
  // fields only the server sets
  merged.metadata = {
    ...merged.metadata,
    uid: cur.metadata.uid,
    creationTimestamp: cur.metadata.creationTimestamp,
    deletionTimestamp: cur.metadata.deletionTimestamp,
    deletionGracePeriodSeconds: cur.metadata.deletionGracePeriodSeconds,
    generation: cur.metadata.generation,
  };
  if (merged.metadata.deletionTimestamp === undefined) delete merged.metadata.deletionTimestamp;
  if (merged.metadata.deletionGracePeriodSeconds === undefined) delete merged.metadata.deletionGracePeriodSeconds;
  ctx.admit({ user: ctx.user, operation: 'update', res, subresource: sub, namespace: cur.metadata.namespace ?? '', name, object: merged, old: cur });
  const causes = validate(res, merged, cur);
  if (causes.length) invalid(res, name, causes);
  // finalizers all gone on an object being deleted: it goes now
  if (merged.metadata.deletionTimestamp && !(merged.metadata.finalizers ?? []).length && res.resource !== 'pods') {
    ctx.store.remove(res, cur.metadata.namespace ?? '', name);
    return { status: 200, body: merged };
  }
  return { status: 200, body: ctx.store.replace(res, merged) };
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export function remove(ctx: RestContext, res: ApiResource, ns: string, name: string, opts: DeleteOptions): Reply {
  const cur = ctx.store.get(res, ns, name);
  if (!cur) throw errors.notFound(res.resource, res.group, name);
  const pre = opts.preconditions ?? {};
  if (pre.uid && pre.uid !== cur.metadata.uid) {
    throw errors.conflict(res.resource, res.group, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata.uid}`);
  }
  if (pre.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion) {
    throw errors.conflict(
      res.resource,
      res.group,
      name,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.metadata.resourceVersion}`,
    );
  }
  ctx.admit({ user: ctx.user, operation: 'delete', res, subresource: '', namespace: ns, name, old: cur });
  const answer = (o: KubeObject) => ({
    status: 200,
    body: RETURNS_DELETED_OBJECT.has(res.resource) ? o : deletedStatus(res.resource, res.group, name, cur.metadata.uid),
  });
  const grace = res.resource === 'pods' ? podGracePeriod(cur, opts.gracePeriodSeconds) : 0;
  const finalizers = (cur.metadata.finalizers ?? []).length > 0;
  if (grace > 0 || finalizers) {
    const at = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    const already = cur.metadata.deletionTimestamp;
    // a shorter grace period may replace a longer one; a longer never does
    if (!already || (grace > 0 && at < already)) {
      return answer(
        ctx.store.replace(res, {
          ...cur,
          metadata: { ...cur.metadata, deletionTimestamp: at, ...(res.resource === 'pods' ? { deletionGracePeriodSeconds: grace } : {}) },
        }),
      );
    }
    return answer(cur);
  }
  return answer(ctx.store.remove(res, ns, name) ?? cur);
}
