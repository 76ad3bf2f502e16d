import { ConfigError, type AzureContext } from '@flexnode/sdk';
import { armCall, authorizationClient } from './arm.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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

/**
 * The roles granted to the Arc identity on the cluster when `azure.arc.roles` is not set (why: README,
 * "Roles of the node identity"):
 *  - Cluster User Role: read the cluster and list its user credentials (server URL and CA, for the agent's
 *    refreshes), nothing in the cluster itself;
 *  - RBAC Admin: the least built-in Azure RBAC data-plane role that lets the kubelet create and update its
 *    Node object and node status (cluster-scoped objects); Reader and Writer cannot. It is NOT RBAC Cluster
 *    Admin: namespaces and resource quotas stay out of reach. For tighter rights, use a custom role with the
 *    kubelet's data actions only (README) and list it in `azure.arc.roles`.
 */
export const DEFAULT_ROLES = ['Azure Kubernetes Service Cluster User Role', 'Azure Kubernetes Service RBAC Admin'];

/** A role to grant: its definition GUID and a name for messages. */
export interface WantedRole {
  name: string;
  guid: string;
}

/** The configured roles (or the defaults), built-in names and GUIDs resolved without calling Azure. */
export function configuredRoles(roles: readonly string[] | undefined): { known: WantedRole[]; unknownNames: string[] } {
  const known: WantedRole[] = [];
  const unknownNames: string[] = [];
  const byLower = new Map(Object.entries(BUILTIN_ROLES).map(([n, g]) => [n.toLowerCase(), [n, g] as const]));
  for (const role of roles ?? DEFAULT_ROLES) {
    const r = role.trim();
    const guid = /(?:roleDefinitions\/)?([0-9a-f-]{36})$/i.exec(r)?.[1];
    if (guid && GUID.test(guid)) {
      const name = Object.entries(BUILTIN_ROLES).find(([, g]) => g === guid.toLowerCase())?.[0] ?? guid.toLowerCase();
      known.push({ name, guid: guid.toLowerCase() });
    } else if (byLower.has(r.toLowerCase())) {
      const [name, g] = byLower.get(r.toLowerCase())!;
      known.push({ name, guid: g });
    } else {
      unknownNames.push(r);
    }
  }
  return { known, unknownNames };
}

/** Resolve role names flexnode does not know through the role definitions of the scope (a read). */
export async function resolveRoles(ctx: AzureContext, scope: string, subscriptionId: string, roles: readonly string[] | undefined): Promise<WantedRole[]> {
  const { known, unknownNames } = configuredRoles(roles);
  if (unknownNames.length === 0) return dedupe(known);
  const client = await authorizationClient(ctx, subscriptionId);
  for (const name of unknownNames) {
    const found = await armCall(ctx, { action: `look up the role definition "${name}"`, resource: `role "${name}"` }, async () => {
      for await (const d of client.roleDefinitions.list(scope, { filter: `roleName eq '${name.replace(/'/g, "''")}'` })) return d;
      return undefined;
    });
    if (!found?.name) {
      throw new ConfigError(`azure.arc.roles: no role definition named "${name}" is visible at ${scope}`, [
        { path: 'azure.arc.roles', message: `unknown role "${name}": use a role name or a role definition GUID` },
      ]);
    }
    known.push({ name, guid: found.name.toLowerCase() });
  }
  return dedupe(known);
}

function dedupe(roles: WantedRole[]): WantedRole[] {
  const seen = new Set<string>();
  return roles.filter((r) => !seen.has(r.guid) && seen.add(r.guid));
}

export function roleDefinitionId(subscriptionId: string, guid: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
}
