import { createHash } from 'node:crypto';
import type { ClusterRef } from '../settings.js';
import { scopedDataActions } from './data-actions.js';
import { minorOf, NODE_COMPONENTS, NODE_LEASE_NAMESPACE, NODE_RULES, rulesFor, type NodeComponent, type NodeRuleRow } from './node-rules.js';

/**
 * flexnode's custom roles for the node identity on one cluster: one with the cluster-wide dataActions, assigned at
 * the cluster, and one per namespace a rule is limited to (the Lease: `kube-node-lease`), assigned at
 * `<cluster>/namespaces/<ns>`. Azure RBAC cannot say "the same role, but this action only there", so a
 * namespace-limited action needs a role of its own.
 */
export interface NodeRoleIdentity {
  /** The role definition's GUID: derived from the cluster and components, the same on every node and run. */
  guid: string;
  roleName: string;
  /** Where the definition lives and may be assigned (custom roles: a resource group at the narrowest). */
  assignableScope: string;
  /** Where flexnode assigns it. */
  assignScope: string;
  /** The namespace it is for, undefined for the cluster-wide one. */
  namespace?: string;
}

export interface NodeRoleDefinition extends NodeRoleIdentity {
  description: string;
  dataActions: string[];
}

/** The resource group of a cluster: the narrowest scope a custom role can be assignable at (Azure docs, AssignableScopes). */
export function clusterResourceGroupScope(cluster: ClusterRef): string {
  return `/subscriptions/${cluster.subscriptionId}/resourceGroups/${cluster.resourceGroup}`;
}

/** A name-based UUID (version 5 layout over sha256): the same input always gives the same role GUID. */
export function stableGuid(name: string): string {
  const h = createHash('sha256').update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

const sorted = (components: readonly NodeComponent[]) => [...new Set(components)].sort();

/**
 * The roles' names, GUIDs and scopes: they need no Kubernetes version, so arc.roles can name them from the config
 * alone. Names are unique in the tenant (Azure requires it): they carry the cluster, its resource group and
 * subscription, and say whose rules they hold ("flexnode node" for the kubelet's, "flexnode kube-proxy" for a
 * bootstrap-token node's kube-proxy alone). No components, no roles. `extra` rows (node-rules.ts, nodeRoleExtras)
 * may add namespaces.
 */
export function nodeRoleIdentities(cluster: ClusterRef, components: readonly NodeComponent[], extra: readonly NodeRuleRow[] = []): NodeRoleIdentity[] {
  const parts = sorted(components);
  if (parts.length === 0) return [];
  const label = parts.includes('kubelet')
    ? `node${parts
        .filter((c) => c !== 'kubelet')
        .map((c) => ` + ${c}`)
        .join('')}`
    : parts.join(' + ');
  const where = `${cluster.name}, resource group ${cluster.resourceGroup}, subscription ${cluster.subscriptionId}`;
  const namespaces = [
    ...new Set([...NODE_RULES.filter((r) => parts.includes(r.component)), ...extra].filter((r) => r.namespace).map((r) => r.namespace!)),
  ].sort();
  const key = (scope: string) => `flexnode:node-role:${cluster.id.toLowerCase()}:${parts.join('+')}:${scope}`;
  const base = { assignableScope: clusterResourceGroupScope(cluster) };
  return [
    { ...base, guid: stableGuid(key('cluster')), roleName: `flexnode ${label} (${where})`, assignScope: cluster.id },
    ...namespaces.map((ns) => ({
      ...base,
      guid: stableGuid(key(`namespace/${ns}`)),
      roleName: `flexnode ${label}, namespace ${ns} (${where})`,
      assignScope: `${cluster.id}/namespaces/${ns}`,
      namespace: ns,
    })),
  ];
}

/** The roles with their dataActions for a cluster running `kubernetesVersion`. */
export function nodeRoleDefinitions(
  cluster: ClusterRef,
  components: readonly NodeComponent[],
  kubernetesVersion: string,
  extra: readonly NodeRuleRow[] = [],
): NodeRoleDefinition[] {
  const actions = scopedDataActions([...rulesFor(kubernetesVersion, sorted(components)), ...extra]);
  const roles = sorted(components)
    .map((c) => NODE_COMPONENTS[c])
    .join(' and ');
  const minor = minorOf(kubernetesVersion)!.join('.'); // a patch release changes no rule: no update for it
  return nodeRoleIdentities(cluster, components, extra).map((id) => ({
    ...id,
    dataActions: id.namespace ? (actions.namespaces[id.namespace] ?? []) : actions.cluster,
    description:
      id.namespace && id.namespace !== NODE_LEASE_NAMESPACE
        ? `The dataActions flexnode's own calls as the node need only in the namespace ${id.namespace} (${extra
            .filter((r) => r.namespace === id.namespace)
            .map((r) => r.why)
            .join('; ')}), for flexnode nodes of the cluster ${cluster.name}. Managed by flexnode.`
        : id.namespace
          ? `The dataActions of ${roles} (Kubernetes ${minor}) that the Node authorizer allows only in the namespace ${id.namespace}, for flexnode nodes of the cluster ${cluster.name}. Managed by flexnode.`
          : `The dataActions guard maps from ${roles} (Kubernetes ${minor}), for flexnode nodes of the cluster ${cluster.name}. Managed by flexnode.`,
  }));
}
