import { ConfigError, type AzureContext, type FlexnodeConfig } from '@flexnode/sdk';
import { armCall, authorizationClient } from './arm.js';
import { nodeComponents } from './node-role/components.js';
import { nodeRoleExtras } from './node-role/node-rules.js';
import { nodeRoleIdentities } from './node-role/definitions.js';
import { configuredRoleNames, FLEXNODE_NODE_ROLE } from './role-names.js';
import { sdkScope, type ClusterRef } from './settings.js';
import { GUID } from './guid.js';

export { configuredRoleNames, DEFAULT_ROLES, FLEXNODE_NODE_ROLE, includesNodeRole } from './role-names.js';

/** Built-in role definitions flexnode knows by name (Azure built-in roles documentation). */
export const BUILTIN_ROLES: Record<string, string> = {
  'Azure Kubernetes Service Cluster User Role': '4abbcc35-e782-43d8-92c5-2d3f1bd2253f',
  'Azure Kubernetes Service Cluster Admin Role': '0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8',
  'Azure Kubernetes Service RBAC Cluster Admin': 'b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b',
  'Azure Kubernetes Service RBAC Admin': '3498e952-d568-435e-9b2c-8d77e338d7f7',
  'Azure Kubernetes Service RBAC Writer': 'a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb',
  'Azure Kubernetes Service RBAC Reader': '7f6c6a51-bcf8-42ba-9220-52d62157d7db',
  'Azure Connected Machine Onboarding': 'b64e21ea-ac4e-4cdf-9dc9-5b892992bee7',
  'Azure Connected Machine Resource Administrator': 'cd570a14-e51a-42ad-bac8-bafd67325302',
};

/** Built-in roles that grant far more inside the cluster than a node needs: named only on purpose, with a warning. */
export const ELEVATED_ROLES: Record<string, string> = {
  [BUILTIN_ROLES['Azure Kubernetes Service RBAC Admin']!]: 'read every Secret and write nearly every object in every namespace',
  [BUILTIN_ROLES['Azure Kubernetes Service RBAC Cluster Admin']!]: 'do anything in the cluster',
  [BUILTIN_ROLES['Azure Kubernetes Service Cluster Admin Role']!]: 'list the cluster admin credential (cluster-admin)',
};

/** A role to grant: its definition GUID, a name for messages, and where to assign it. */
export interface WantedRole {
  name: string;
  guid: string;
  scope: string;
  /** One of flexnode's own custom roles (created by arc.node-role). */
  flexnode?: boolean;
}

/** The configured roles (or the defaults), resolved without calling Azure, except names flexnode does not know. */
export function configuredRoles(config: FlexnodeConfig, cluster: ClusterRef): { known: WantedRole[]; unknownNames: string[] } {
  const known: WantedRole[] = [];
  const unknownNames: string[] = [];
  const byLower = new Map(Object.entries(BUILTIN_ROLES).map(([n, g]) => [n.toLowerCase(), [n, g] as const]));
  for (const r of configuredRoleNames(config)) {
    const guid = /(?:roleDefinitions\/)?([0-9a-f-]{36})$/i.exec(r)?.[1];
    if (r.toLowerCase() === FLEXNODE_NODE_ROLE) {
      for (const id of nodeRoleIdentities(cluster, nodeComponents(config), nodeRoleExtras(config)))
        known.push({ name: id.roleName, guid: id.guid, scope: id.assignScope, flexnode: true });
    } else if (guid && GUID.test(guid)) {
      const name = Object.entries(BUILTIN_ROLES).find(([, g]) => g === guid.toLowerCase())?.[0] ?? guid.toLowerCase();
      known.push({ name, guid: guid.toLowerCase(), scope: cluster.id });
    } else if (byLower.has(r.toLowerCase())) {
      const [name, g] = byLower.get(r.toLowerCase())!;
      known.push({ name, guid: g, scope: cluster.id });
    } else {
      unknownNames.push(r);
    }
  }
  return { known, unknownNames };
}

/** Resolve role names flexnode does not know through the role definitions of the cluster scope (a read). */
export async function resolveRoles(ctx: AzureContext, config: FlexnodeConfig, cluster: ClusterRef): Promise<WantedRole[]> {
  const { known, unknownNames } = configuredRoles(config, cluster);
  if (unknownNames.length === 0) return dedupe(known);
  const client = await authorizationClient(ctx, cluster.subscriptionId);
  for (const name of unknownNames) {
    const found = await armCall(ctx, { action: `look up the role definition "${name}"`, resource: `role "${name}"` }, async () => {
      for await (const d of client.roleDefinitions.list(sdkScope(cluster.id), { filter: `roleName eq '${name.replace(/'/g, "''")}'` })) return d;
      return undefined;
    });
    if (!found?.name) {
      throw new ConfigError(`azure.arc.roles: no role definition named "${name}" is visible at ${cluster.id}`, [
        { path: 'azure.arc.roles', message: `unknown role "${name}": use a role name, a role definition GUID or "${FLEXNODE_NODE_ROLE}"` },
      ]);
    }
    known.push({ name, guid: found.name.toLowerCase(), scope: cluster.id });
  }
  return dedupe(known);
}

function dedupe(roles: WantedRole[]): WantedRole[] {
  const seen = new Set<string>();
  return roles.filter((r) => !seen.has(`${r.guid} ${r.scope}`) && seen.add(`${r.guid} ${r.scope}`));
}

export function roleDefinitionId(subscriptionId: string, guid: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
}
