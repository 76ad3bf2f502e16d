// Label and field selectors of list/watch requests (k8s.io/apimachinery/pkg/labels/selector.go set-based and
// equality syntax; pkg/fields), and metav1.LabelSelector matching (PDB and workload selectors).
import { errors } from './status.js';
import type { KubeObject } from './types.js';

type Term = { key: string; op: '=' | '!=' | 'in' | 'notin' | 'exists' | '!'; values: string[] };

/** Parse a labelSelector string; a syntax error is a 400 as the API server answers. */
export function parseLabelSelector(s: string | undefined): Term[] {
  const out: Term[] = [];
  const text = (s ?? '').trim();
  if (!text) return out;
  // split on commas outside parentheses
  const terms: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(cur);
      cur = '';
    } else cur += ch;
  }
  terms.push(cur);
  for (const raw of terms.map((t) => t.trim())) {
    let m: RegExpExecArray | null;
    if ((m = /^([^\s!=()]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(raw)))
      out.push({
        key: m[1]!,
        op: m[2] as 'in' | 'notin',
        values: m[3]!
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean),
      });
    else if ((m = /^([^\s!=()]+)\s*!=\s*([^\s!=()]*)$/.exec(raw))) out.push({ key: m[1]!, op: '!=', values: [m[2]!] });
    else if ((m = /^([^\s!=()]+)\s*==?\s*([^\s!=()]*)$/.exec(raw))) out.push({ key: m[1]!, op: '=', values: [m[2]!] });
    else if ((m = /^!\s*([^\s!=()]+)$/.exec(raw))) out.push({ key: m[1]!, op: '!', values: [] });
    else if ((m = /^([^\s!=()]+)$/.exec(raw))) out.push({ key: m[1]!, op: 'exists', values: [] });
    else throw errors.badRequest(`unable to parse requirement: found '${raw}', expected: !, identifier, or 'end of string'`);
  }
  return out;
}

export function labelsMatch(terms: Term[], labels: Record<string, string> = {}): boolean {
  return terms.every((t) => {
    const has = Object.prototype.hasOwnProperty.call(labels, t.key);
    const v = labels[t.key];
    switch (t.op) {
      case '=':
        return has && v === t.values[0];
      case '!=':
        return !has || v !== t.values[0];
      case 'in':
        return has && t.values.includes(v!);
      case 'notin':
        return !has || !t.values.includes(v!);
      case 'exists':
        return has;
      case '!':
        return !has;
    }
  });
}

/** Fields the API server supports in field selectors per resource (the rest answer 400, as the real one does). */
const FIELDS: Record<string, (o: KubeObject) => Record<string, string | undefined>> = {
  pods: (o) => ({
    'spec.nodeName': str(o.spec?.nodeName),
    'spec.restartPolicy': str(o.spec?.restartPolicy),
    'spec.schedulerName': str(o.spec?.schedulerName),
    'spec.serviceAccountName': str(o.spec?.serviceAccountName),
    'spec.hostNetwork': String(o.spec?.hostNetwork ?? false),
    'status.phase': str(o.status?.phase),
    'status.podIP': str(o.status?.podIP),
    'status.nominatedNodeName': str(o.status?.nominatedNodeName),
  }),
  nodes: (o) => ({ 'spec.unschedulable': String(o.spec?.unschedulable ?? false) }),
  // pkg/registry/core/service/strategy.go ServiceToSelectableFields: kube-proxy lists `spec.clusterIP!=None`.
  services: (o) => ({ 'spec.clusterIP': str(o.spec?.clusterIP), 'spec.type': str(o.spec?.type) }),
  secrets: (o) => ({ type: str(o.type) }),
  events: (o) => ({
    'involvedObject.kind': str((o.involvedObject as Record<string, unknown> | undefined)?.kind),
    'involvedObject.name': str((o.involvedObject as Record<string, unknown> | undefined)?.name),
    'involvedObject.namespace': str((o.involvedObject as Record<string, unknown> | undefined)?.namespace),
    'involvedObject.uid': str((o.involvedObject as Record<string, unknown> | undefined)?.uid),
    reason: str(o.reason),
    type: str(o.type),
    source: str((o.source as Record<string, unknown> | undefined)?.component),
  }),
  certificatesigningrequests: (o) => ({ 'spec.signerName': str(o.spec?.signerName) }),
};

function str(v: unknown): string | undefined {
  return v === undefined || v === null ? '' : String(v);
}

/** A field selector as a predicate; unsupported fields are a 400 `field label not supported`. */
export function fieldMatcher(resource: string, selector: string | undefined): (o: KubeObject) => boolean {
  const terms = (selector ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t) => {
      const m = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(t);
      if (!m) throw errors.badRequest(`invalid selector: '${selector}'; can't understand '${t}'`);
      return { field: m[1]!, neg: m[2] === '!=', value: m[3]! };
    });
  const extra = FIELDS[resource];
  for (const t of terms) {
    if (t.field !== 'metadata.name' && t.field !== 'metadata.namespace' && !(extra && t.field in extra({ metadata: { name: '' } }))) {
      throw errors.badRequest(`field label not supported: ${t.field}`);
    }
  }
  return (o) => {
    const fields: Record<string, string | undefined> = {
      'metadata.name': o.metadata.name,
      'metadata.namespace': o.metadata.namespace ?? '',
      ...(extra?.(o) ?? {}),
    };
    return terms.every((t) => (fields[t.field] === t.value) !== t.neg);
  };
}

/** metav1.LabelSelector (matchLabels + matchExpressions) against labels; an empty selector matches everything. */
export function labelSelectorMatches(
  sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined,
  labels: Record<string, string> = {},
): boolean {
  if (!sel) return false; // a nil selector selects nothing (PDB: "a null selector selects no pods")
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const v = labels[e.key];
    const ok =
      e.operator === 'In'
        ? has && (e.values ?? []).includes(v!)
        : e.operator === 'NotIn'
          ? !has || !(e.values ?? []).includes(v!)
          : e.operator === 'Exists'
            ? has
            : e.operator === 'DoesNotExist'
              ? !has
              : false;
    if (!ok) return false;
  }
  return true;
}
