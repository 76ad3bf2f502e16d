// Patch semantics for the FAKE Kubernetes API: JSON merge patch (RFC 7386), strategic merge patch for the fields
// the callers patch (the patchMergeKey / patchStrategy tags of k8s.io/api: conditions and addresses merge by `type`,
// containers, volumes and env by `name`, ownerReferences by `uid`, finalizers as a set; other lists are replaced;
// `$patch: delete` items and `$setElementOrder/...` / `$retainKeys` directives are understood or ignored) and JSON
// patch (RFC 6902 add/remove/replace/test).
type Json = unknown;

/** patchMergeKey of lists by field name (k8s.io/api core/v1 and meta/v1 struct tags). */
const MERGE_KEYS: Record<string, string> = {
  conditions: 'type',
  addresses: 'type',
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  ports: 'containerPort',
  volumeMounts: 'mountPath',
  ownerReferences: 'uid',
  imagePullSecrets: 'name',
  tolerations: 'key',
};
/** Lists of scalars with patchStrategy merge (set union). */
const SET_LISTS = new Set(['finalizers']);

function isObj(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function mergePatch(target: Json, patch: Json, strategic = false): Json {
  if (!isObj(patch)) return patch;
  if (strategic && patch.$patch === 'replace') {
    const { $patch: _drop, ...rest } = patch;
    return rest;
  }
  const out: Record<string, Json> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue; // $setElementOrder/..., $retainKeys, $deleteFromPrimitiveList/...: order and pruning hints
    if (v === null) delete out[k];
    else if (strategic && Array.isArray(v) && MERGE_KEYS[k] && Array.isArray(out[k])) out[k] = mergeByKey(out[k] as Json[], v, MERGE_KEYS[k]!);
    else if (strategic && Array.isArray(v) && SET_LISTS.has(k) && Array.isArray(out[k])) out[k] = [...new Set([...(out[k] as Json[]), ...v])];
    else if (strategic && Array.isArray(v)) out[k] = v.filter((x) => !(isObj(x) && x.$patch === 'delete'));
    else out[k] = mergePatch(out[k], v, strategic);
  }
  return out;
}

function mergeByKey(base: Json[], patch: Json[], key: string): Json[] {
  const out = base.map((x) => (isObj(x) ? { ...x } : x));
  for (const p of patch) {
    if (!isObj(p)) continue;
    const i = out.findIndex((x) => isObj(x) && x[key] === p[key]);
    if (p.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = mergePatch(out[i], p, true);
    else out.push(mergePatch({}, p, true));
  }
  return out;
}

interface Op {
  op: string;
  path: string;
  value?: Json;
  from?: string;
}

/** RFC 6902 add/remove/replace/test (copy/move unsupported: the fake has no use for them). */
export function jsonPatch(target: Json, ops: Op[]): Json {
  const doc = structuredClone(target) as Json;
  const root = { v: doc };
  for (const o of ops) {
    const parts = o.path
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    let parent: Json = root;
    let key: string = 'v';
    for (const p of parts) {
      parent = (parent as Record<string, Json>)[key];
      key = p;
      if (parent === undefined || parent === null) throw new Error(`path ${o.path} does not exist`);
    }
    const container = parent as Record<string, Json>;
    const idx = Array.isArray(container) ? (key === '-' ? container.length : Number(key)) : key;
    switch (o.op) {
      case 'add':
        if (Array.isArray(container)) container.splice(idx as number, 0, o.value);
        else container[key] = o.value;
        break;
      case 'replace':
        if (!(idx in container)) throw new Error(`path ${o.path} does not exist`);
        (container as Record<string, Json>)[idx as string] = o.value;
        break;
      case 'remove':
        if (!(idx in container)) throw new Error(`path ${o.path} does not exist`);
        if (Array.isArray(container)) container.splice(idx as number, 1);
        else delete container[key];
        break;
      case 'test':
        if (JSON.stringify((container as Record<string, Json>)[idx as string]) !== JSON.stringify(o.value)) throw new Error(`test failed at ${o.path}`);
        break;
      default:
        throw new Error(`unsupported op ${o.op}`);
    }
  }
  return root.v;
}
