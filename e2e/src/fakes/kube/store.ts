// The FAKE API server's storage: objects by resource/namespace/name with a cluster-wide resourceVersion counter (as
// etcd's revision), uid, creationTimestamp and generation (bumped when .spec changes), and the watch event history a
// watch replays from a resourceVersion (too old: 410 Gone "too old resource version", as the watch cache answers).
import { randomUUID } from 'node:crypto';
import type { ApiResource } from './api-resources.js';
import { errors } from './status.js';
import type { KubeObject } from './types.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  rv: number;
  type: WatchEventType;
  res: ApiResource;
  object: KubeObject;
  old?: KubeObject;
}

interface Watcher {
  res: ApiResource;
  namespace: string;
  onEvent: (e: StoreEvent) => void;
}

const HISTORY = 10_000;

export const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const clone = <T>(v: T): T => structuredClone(v);
const keyOf = (res: ApiResource, ns: string, name: string) => `${res.group}/${res.resource}/${res.namespaced ? ns : ''}/${name}`;

export class ObjectStore {
  private rv = 1;
  private readonly objects = new Map<string, KubeObject>();
  private readonly history: StoreEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  /** Called after every change (controllers hook here). */
  readonly listeners: ((e: StoreEvent) => void)[] = [];

  get resourceVersion(): string {
    return String(this.rv);
  }

  get(res: ApiResource, ns: string, name: string): KubeObject | undefined {
    const o = this.objects.get(keyOf(res, ns, name));
    return o && clone(o);
  }

  /** Objects of a resource, in a namespace or all, ordered by namespace then name (etcd key order). */
  list(res: ApiResource, ns?: string): KubeObject[] {
    const prefix = `${res.group}/${res.resource}/`;
    return [...this.objects.entries()]
      .filter(([k, o]) => k.startsWith(prefix) && (!ns || !res.namespaced || o.metadata.namespace === ns))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => clone(o));
  }

  create(res: ApiResource, obj: KubeObject): KubeObject {
    const ns = res.namespaced ? (obj.metadata.namespace ?? '') : '';
    const key = keyOf(res, ns, obj.metadata.name);
    if (this.objects.has(key)) throw errors.alreadyExists(res.resource, res.group, obj.metadata.name);
    const o = clone(obj);
    o.apiVersion = res.group ? `${res.group}/${res.version}` : res.version;
    o.kind = res.kind;
    o.metadata = { ...o.metadata, uid: randomUUID(), resourceVersion: String(++this.rv), creationTimestamp: now() };
    if (!res.namespaced) delete o.metadata.namespace;
    if (o.spec !== undefined) o.metadata.generation = 1;
    this.objects.set(key, o);
    this.emit({ rv: this.rv, type: 'ADDED', res, object: clone(o) });
    return clone(o);
  }

  /** Store a new version of an existing object (caller has checked preconditions). */
  replace(res: ApiResource, obj: KubeObject): KubeObject {
    const ns = res.namespaced ? (obj.metadata.namespace ?? '') : '';
    const key = keyOf(res, ns, obj.metadata.name);
    const old = this.objects.get(key);
    if (!old) throw errors.notFound(res.resource, res.group, obj.metadata.name);
    const o = clone(obj);
    o.apiVersion = old.apiVersion;
    o.kind = old.kind;
    o.metadata = { ...o.metadata, uid: old.metadata.uid, creationTimestamp: old.metadata.creationTimestamp, resourceVersion: String(++this.rv) };
    if (old.metadata.generation !== undefined || o.spec !== undefined) {
      const changed = JSON.stringify(o.spec ?? null) !== JSON.stringify(old.spec ?? null);
      o.metadata.generation = (old.metadata.generation ?? 1) + (changed ? 1 : 0);
    }
    this.objects.set(key, o);
    this.emit({ rv: this.rv, type: 'MODIFIED', res, object: clone(o), old: clone(old) });
    return clone(o);
  }

  remove(res: ApiResource, ns: string, name: string): KubeObject | undefined {
    const key = keyOf(res, ns, name);
    const old = this.objects.get(key);
    if (!old) return undefined;
    this.objects.delete(key);
    const gone = { ...clone(old), metadata: { ...clone(old.metadata), resourceVersion: String(++this.rv) } };
    this.emit({ rv: this.rv, type: 'DELETED', res, object: gone, old: clone(old) });
    return gone;
  }

  /**
   * Follow changes of a resource (in a namespace, or all when ns is ''), replaying what happened after `sinceRv`.
   * A resourceVersion older than the kept history is 410 Gone, as the API server's watch cache answers.
   */
  watch(res: ApiResource, ns: string, sinceRv: number, onEvent: (e: StoreEvent) => void): () => void {
    const oldest = this.history[0]?.rv ?? this.rv;
    if (sinceRv && sinceRv < oldest - 1 && this.history.length >= HISTORY) {
      throw errors.gone(`too old resource version: ${sinceRv} (${oldest - 1})`);
    }
    const w: Watcher = { res, namespace: ns, onEvent };
    for (const e of this.history) if (e.rv > sinceRv && this.matches(w, e)) onEvent(e);
    this.watchers.add(w);
    return () => void this.watchers.delete(w);
  }

  private matches(w: Watcher, e: StoreEvent): boolean {
    return w.res === e.res && (!w.namespace || e.object.metadata.namespace === w.namespace);
  }

  private emit(e: StoreEvent): void {
    this.history.push(e);
    if (this.history.length > HISTORY) this.history.shift();
    for (const w of this.watchers) if (this.matches(w, e)) w.onEvent(e);
    for (const l of this.listeners) l(e);
  }
}
