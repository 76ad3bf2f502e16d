// Kubernetes RBAC rules → the Azure dataActions guard checks for the same requests. guard (kubeguard/guard,
// authz/providers/azure/rbac/checkaccessreqhelper.go) maps a request to
// `Microsoft.ContainerService/managedClusters[/<group>]/<resource>/<action>`: get/list/watch → read, create/update/
// patch → write, delete/deletecollection → delete, impersonate/bind/escalate/use → `<verb>/action`; the subresource
// is dropped (except pods/exec), the object's name is never part of it, and the scope is the cluster or
// `<cluster>/namespaces/<ns>`. So a rule maps to coarser dataActions: `pods/status` update is `pods/write`,
// `serviceaccounts/token` create is `serviceaccounts/write`.
import type { NodeRuleRow, RbacRule } from './node-rules.js';

export const MANAGED_CLUSTERS = 'Microsoft.ContainerService/managedClusters';

/** guard's action for a verb (getActionName). */
export function guardAction(verb: string): string {
  switch (verb) {
    case 'get':
    case 'list':
    case 'watch':
      return 'read';
    case 'create':
    case 'update':
    case 'patch':
      return 'write';
    case 'delete':
    case 'deletecollection':
      return 'delete';
    case 'impersonate':
    case 'bind':
    case 'escalate':
    case 'use':
      return `${verb}/action`;
    default:
      throw new Error(`guard maps no action for the verb "${verb}"`);
  }
}

/** The dataActions guard checks for the requests one rule allows. */
export function dataActionsOf(rule: RbacRule): string[] {
  const out = new Set<string>();
  for (const group of rule.apiGroups) {
    for (const resourceAndSub of rule.resources) {
      const [resource, sub] = resourceAndSub.split('/');
      for (const verb of rule.verbs) {
        const action = resource === 'pods' && sub === 'exec' ? 'exec/action' : guardAction(verb);
        out.add([MANAGED_CLUSTERS, group, resource, action].filter(Boolean).join('/'));
      }
    }
  }
  return [...out];
}

/** dataActions by where they are granted: `cluster` for the whole cluster, else by namespace. */
export interface ScopedDataActions {
  cluster: string[];
  namespaces: Record<string, string[]>;
}

/**
 * The dataActions of a set of rows, grouped by scope and sorted. An action any cluster-wide row needs stays
 * cluster-wide only (granting it again in a namespace would add nothing).
 */
export function scopedDataActions(rows: readonly NodeRuleRow[]): ScopedDataActions {
  const cluster = new Set(rows.filter((r) => !r.namespace).flatMap(dataActionsOf));
  const namespaces: Record<string, Set<string>> = {};
  for (const r of rows.filter((x) => x.namespace)) {
    for (const a of dataActionsOf(r)) if (!cluster.has(a)) (namespaces[r.namespace!] ??= new Set()).add(a);
  }
  return {
    cluster: [...cluster].sort(),
    namespaces: Object.fromEntries(
      Object.entries(namespaces)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([ns, s]) => [ns, [...s].sort()]),
    ),
  };
}
