// Patch semantics for the FAKE Kubernetes API: JSON merge patch (RFC 7386), a strategic-merge approximation
// (lists of objects keyed by `type`, such as conditions and addresses, merge by that key) and JSON patch (RFC 6902).
type Json = unknown;

function isObj(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function mergePatch(target: Json, patch: Json, strategic = false): Json {
  if (!isObj(patch)) return patch;
  const out: Record<string, Json> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue; // strategic-merge directives ($patch, $retainKeys...) are not modelled
    if (v === null) delete out[k];
    else if (strategic && Array.isArray(v) && Array.isArray(out[k]) && keyedByType(v) && keyedByType(out[k] as Json[])) {
      out[k] = mergeByType(out[k] as Record<string, Json>[], v as Record<string, Json>[]);
    } else out[k] = mergePatch(out[k], v, strategic);
  }
  return out;
}

function keyedByType(list: Json[]): boolean {
  return list.every((x) => isObj(x) && typeof x.type === 'string');
}

function mergeByType(base: Record<string, Json>[], patch: Record<string, Json>[]): Json[] {
  const out = base.map((x) => ({ ...x }));
  for (const p of patch) {
    const i = out.findIndex((x) => x.type === p.type);
    if (i >= 0) out[i] = mergePatch(out[i], p, true) as Record<string, Json>;
    else out.push(p);
  }
  return out;
}

interface Op { op: string; path: string; value?: Json; from?: string }

/** RFC 6902 add/remove/replace/test (copy/move unsupported: the fake has no use for them). */
export function jsonPatch(target: Json, ops: Op[]): Json {
  const doc = structuredClone(target) as Json;
  const root = { v: doc };
  for (const o of ops) {
    const parts = o.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
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
