import { randomUUID } from 'node:crypto';
import {
  FlexnodeError,
  drifted,
  findRecord,
  missing,
  ok,
  replaceRecord,
  type AzureContext,
  type CheckResult,
  type FlexnodeConfig,
  type Host,
  type NodeIdentity,
  type StepInstance,
} from '@flexnode/sdk';
import { arcEndpointProblem } from '../arc-endpoint.js';
import { armCall, authorizationClient, getMachine, readManagedCluster, sleep, waitFor } from '../arm.js';
import { credentialName } from '../credential-name.js';
import { isAmbiguous, isNotFound, isRoleAssignmentExists, statusOf, toAzureError } from '../azure-errors.js';
import { isOperatorMissing, operatorToken } from '../operator.js';
import { MACHINE_RECORD } from '../paths.js';
import { arcPluginConfig } from '../plugin-config.js';
import { ASSIGNMENT, records, type AssignmentRecord } from '../records.js';
import {
  BUILTIN_ROLES,
  configuredRoleNames,
  configuredRoles,
  ELEVATED_ROLES,
  FLEXNODE_NODE_ROLE,
  resolveRoles,
  roleDefinitionId,
  type WantedRole,
} from '../roles.js';
import { arcSettings, sameId, sdkScope, type ArcSettings } from '../settings.js';

interface Assignment {
  id?: string;
  scope?: string;
  roleDefinitionId?: string;
  principalId?: string;
}

/** Whether an existing assignment grants `role` at its scope (there or inherited from above it). */
export function covers(a: Assignment, role: WantedRole): boolean {
  const s = (a.scope ?? '').replace(/\/+$/, '').toLowerCase();
  const target = role.scope.toLowerCase();
  const atOrAbove = s === '/' || target === s || target.startsWith(`${s}/`);
  return atOrAbove && (a.roleDefinitionId ?? '').toLowerCase().endsWith(`/${role.guid}`);
}

/** Journal record: the identity held these roles on this scope when arc.roles last granted or verified them. */
const GRANTED = 'arc.roles-granted';

interface GrantedRecord {
  principalId: string;
  scope: string;
  /** `azure.arc.roles` (or the defaults) as configured then: another list means another verification. */
  configured: string[];
  roles: { name: string; guid: string; scope?: string }[];
  [key: string]: unknown;
}

const CLUSTER_READERS = new Set([BUILTIN_ROLES['Azure Kubernetes Service Cluster User Role'], BUILTIN_ROLES['Azure Kubernetes Service Cluster Admin Role']]);

/** The operations of `arc.roles` (declared in steps.ts). */
export function arcRolesOps({
  host,
  config,
  ctx,
  identity,
}: {
  host: Host;
  config: FlexnodeConfig;
  ctx: AzureContext;
  identity: NodeIdentity | undefined;
}): StepInstance {
  const scopeOf = (s: ArcSettings) => s.cluster.id;
  const call = (action: string, s: ArcSettings) => ({
    action,
    resource: `the cluster ${s.cluster.name} (resource group ${s.cluster.resourceGroup}, subscription ${s.cluster.subscriptionId})`,
  });

  /** The identity's object id as arc.connect recorded it for this machine, if it did. */
  const recordedPrincipal = async (s: ArcSettings): Promise<string | undefined> => {
    const text = await host.files.readText(MACHINE_RECORD);
    try {
      const rec = text ? (JSON.parse(text) as { resourceId?: string; principalId?: string }) : undefined;
      return rec?.principalId && sameId(rec.resourceId, s.machineId) ? rec.principalId : undefined;
    } catch {
      return undefined;
    }
  };

  /** The identity's object id: arc.connect's record, else (or when `fresh`) the machine resource in Azure. */
  const principalOf = async (s: ArcSettings, fresh: boolean): Promise<string | undefined> => {
    const recorded = fresh ? undefined : await recordedPrincipal(s);
    if (recorded) return recorded;
    const machine = await getMachine(ctx, { subscriptionId: s.subscriptionId, resourceGroup: s.resourceGroup, name: s.machineName });
    return machine?.identity?.principalId ?? undefined;
  };

  /** The roles as configured (names or GUIDs, before any lookup): what the record of a verification is for. */
  const configured = () => configuredRoleNames(config);

  const listFor = async (s: ArcSettings, principalId: string): Promise<Assignment[]> => {
    const client = await authorizationClient(ctx, s.cluster.subscriptionId);
    return armCall(ctx, call(`list the role assignments of the machine identity on ${s.cluster.name}`, s), async () => {
      const out: Assignment[] = [];
      for await (const a of client.roleAssignments.listForScope(sdkScope(scopeOf(s)), { filter: `principalId eq '${principalId}'` })) out.push(a);
      return out;
    });
  };

  const state = async (principalId: string) => {
    const s = arcSettings(config);
    const roles = await resolveRoles(ctx, config, s.cluster);
    const existing = await listFor(s, principalId);
    const lacking = roles.filter((r) => !existing.some((a) => covers(a, r)));
    return { roles, lacking };
  };

  /** What the check trusts afterwards without asking Azure: the identity holds these roles on this scope. */
  const recordGranted = (s: ArcSettings, principalId: string, roles: WantedRole[]) =>
    replaceRecord(host, GRANTED, {
      principalId,
      scope: scopeOf(s),
      configured: configured(),
      roles: roles.map((r) => ({ name: r.name, guid: r.guid, scope: r.scope })),
    } satisfies GrantedRecord);

  /**
   * From the journal and the node's own record: the roles flexnode verified (or granted) for this identity, scope
   * and role list. Azure is asked, with the operator's credential, only when there is no such record: status and
   * the agent's cycles on a joined node need no operator and load no Azure SDK.
   */
  const check = async (): Promise<CheckResult> => {
    const s = arcSettings(config);
    const principalId = await recordedPrincipal(s);
    if (!principalId) return missing(`the Arc machine ${s.machineName} has no recorded identity yet (step arc.connect)`);
    const granted = findRecord<GrantedRecord>(host, GRANTED);
    // The same list can mean other roles (flexnode's roles follow the node's components): each one known offline
    // must be among those recorded.
    const recorded = (r: WantedRole) => granted?.roles.some((g) => g.guid === r.guid && sameId(g.scope ?? scopeOf(s), r.scope));
    if (
      granted &&
      granted.principalId === principalId &&
      sameId(granted.scope, scopeOf(s)) &&
      granted.configured.join('\n') === configured().join('\n') &&
      configuredRoles(config, s.cluster).known.every(recorded)
    ) {
      return ok(`${granted.roles.map((r) => r.name).join(', ')} on ${s.cluster.name} (verified when granted)`);
    }
    try {
      await operatorToken(ctx, `checking arc.roles (no record yet that the identity ${principalId} holds its roles)`);
    } catch (error) {
      if (isOperatorMissing(error)) return missing(error.message);
      throw error;
    }
    const { roles, lacking } = await state(principalId);
    if (lacking.length > 0) {
      return missing(`the identity ${principalId} lacks ${lacking.map((r) => `"${r.name}"`).join(', ')} on the cluster ${s.cluster.name}`);
    }
    return drifted(`${roles.map((r) => `"${r.name}"`).join(', ')} are assigned on ${s.cluster.name}, but not recorded for this identity and role list yet`);
  };

  /** The cluster exists (a 404 names it) and, for Azure RBAC roles, uses Azure RBAC (else they do nothing). */
  const checkCluster = async (s: ArcSettings, roles: WantedRole[]) => {
    const cluster = await readManagedCluster(ctx, s.cluster);
    const rbacRoles = roles.filter((r) => /RBAC/.test(r.name) || r.flexnode);
    if (!cluster.azureRbac && rbacRoles.length > 0) {
      host.log.warn(
        `the cluster ${s.cluster.name} does not use Azure RBAC for Kubernetes authorization: ${rbacRoles.map((r) => r.name).join(', ')} will not authorize the node identity (the kubelet, a kube-proxy flexnode runs); enable it (az aks update --enable-azure-rbac) or bind the identity with Kubernetes RBAC`,
      );
    }
  };

  /** Bounded wait until the new assignments are visible and, when the node identity can be asked, effective. */
  const waitForPropagation = async (s: ArcSettings, principalId: string, created: AssignmentRecord[], roles: WantedRole[]) => {
    const pc = arcPluginConfig(config);
    const timeoutMs = (pc.propagationTimeoutSeconds ?? 300) * 1000;
    const probeIdentity = identity && roles.some((r) => CLUSTER_READERS.has(r.guid)) && arcEndpointProblem() === undefined;
    try {
      await waitFor(
        `${created.length} new role assignment(s) on ${s.cluster.name} to take effect`,
        async () => {
          const listed = await listFor(s, principalId);
          if (!created.every((c) => listed.some((a) => sameId(a.id, c.id)))) return undefined;
          if (probeIdentity && !(await canReadCluster(s))) return undefined;
          return true;
        },
        { log: host.log, timeoutMs, intervalMs: pc.pollIntervalMs ?? 2000, onTimeout: () => new Error('timeout') },
      );
    } catch (error) {
      if ((error as Error).message !== 'timeout') throw error;
      host.log.warn(
        `the new role assignments are not effective yet after ${Math.round(timeoutMs / 1000)} s; Azure may take up to 10 minutes: the kubelet retries until they are`,
      );
    }
  };

  /** Whether the node identity itself can read the cluster (Azure RBAC has propagated). */
  const canReadCluster = async (s: ArcSettings): Promise<boolean> => {
    try {
      const { createPipelineRequest } = await import('@azure/core-rest-pipeline');
      const { HybridComputeManagementClient } = await import('@azure/arm-hybridcompute');
      const credential = { getToken: (scopes: string | string[]) => identity!.getToken([scopes].flat()[0]!) };
      const client = new HybridComputeManagementClient(credential as never, s.cluster.subscriptionId, {
        ...ctx.clientOptions,
        retryOptions: { maxRetries: 0 },
      });
      const response = await client.sendRequest(
        createPipelineRequest({ url: `${ctx.resourceManagerEndpoint}${s.cluster.id}?api-version=2024-05-01`, method: 'GET' }),
      );
      return response.status === 200;
    } catch {
      return false;
    }
  };

  /** RBAC Admin and the admin roles give the node far more than a kubelet needs: granted when named, never silently. */
  const warnElevated = (roles: WantedRole[]) => {
    for (const r of roles.filter((x) => ELEVATED_ROLES[x.guid])) {
      host.log.warn(
        `azure.arc.roles names "${r.name}": it lets the node identity (anyone root on this machine) ${ELEVATED_ROLES[r.guid]}; a node needs only "${FLEXNODE_NODE_ROLE}" (the dataActions of system:node, plugin-arc README "Roles of the node identity")`,
      );
    }
  };

  const install = async () => {
    const s = arcSettings(config);
    if (!host.dryRun) await operatorToken(ctx, `arc.roles (assigning roles to the identity of ${s.machineName} on the cluster ${s.cluster.name})`);
    const principalId = await principalOf(s, true);
    if (!principalId) {
      if (host.dryRun) {
        const roles = await resolveRoles(ctx, config, s.cluster);
        warnElevated(roles);
        for (const r of roles) await host.changes.record(`assign role "${r.name}" to the identity of machine ${s.machineName} on ${r.scope}`, { role: r.guid });
        return;
      }
      throw new FlexnodeError('ARC_NO_IDENTITY', `the Arc machine ${s.machineId} has no system-assigned identity`, {
        hint: 'run arc.connect first (flexnode bootstrap does)',
      });
    }
    const { roles, lacking } = await state(principalId);
    warnElevated(roles);
    if (lacking.length === 0) {
      if (!host.dryRun) await recordGranted(s, principalId, roles);
      return;
    }
    if (host.dryRun) {
      for (const r of lacking) await host.changes.record(`assign role "${r.name}" to the machine identity ${principalId} on ${r.scope}`, { role: r.guid });
      return;
    }
    await checkCluster(s, roles);
    const client = await authorizationClient(ctx, s.cluster.subscriptionId);
    const created: AssignmentRecord[] = [];
    const pc = arcPluginConfig(config);
    for (const role of lacking) {
      const name = randomUUID();
      const rec: AssignmentRecord = {
        id: `${role.scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
        scope: role.scope,
        name,
        roleDefinitionId: roleDefinitionId(s.cluster.subscriptionId, role.guid),
        role: role.name,
        principalId,
      };
      // Write-ahead with the id chosen here: a crash or a lost answer still leaves the journal knowing it.
      await host.changes.record(ASSIGNMENT, rec);
      const forget = () => host.changes.forget(ASSIGNMENT, (d) => d.id === rec.id);
      const action = `assign the role "${role.name}" to the machine identity ${principalId} on the cluster ${s.cluster.name}`;
      const deadline = Date.now() + (pc.identityTimeoutSeconds ?? 180) * 1000;
      for (let delay = pc.pollIntervalMs ?? 2000; ; delay = Math.min(delay * 2, 15_000)) {
        try {
          await client.roleAssignments.create(sdkScope(role.scope), name, {
            roleDefinitionId: rec.roleDefinitionId,
            principalId,
            principalType: 'ServicePrincipal',
          });
          created.push(rec);
          host.log.info(`assigned "${role.name}" to the machine identity on ${s.cluster.name}`);
          break;
        } catch (error) {
          if (isRoleAssignmentExists(error)) {
            await forget(); // someone else's (or a concurrent run's): kept, never removed by flexnode
            host.log.info(`"${role.name}" is already assigned on ${s.cluster.name}: kept as it is`);
            break;
          }
          // Not replicated yet: a brand-new identity in Entra (upstream retries it too), or flexnode's own custom
          // role, just written by arc.node-role, on the ARM replica that took this PUT (transient
          // RoleDefinitionDoesNotExist / RoleAssignmentScopeNotAssignableToRoleDefinition). A built-in role or one
          // named in azure.arc.roles that does not exist is a definite refusal, told at once.
          const unreplicated = notReplicatedYet(error, role.flexnode === true);
          if (unreplicated && Date.now() < deadline) {
            host.log.info(
              `${unreplicated === 'principal' ? `the identity ${principalId}` : `the custom role "${role.name}"`} is not visible to Azure RBAC yet; retrying`,
            );
            await sleep(delay);
            continue;
          }
          if (!isAmbiguous(error)) await forget(); // a definite refusal: nothing was created
          throw toAzureError(error, { ...call(action, s), credential: credentialName(ctx), endpoint: ctx.resourceManagerEndpoint });
        }
      }
    }
    if (created.length > 0) await waitForPropagation(s, principalId, created, roles);
    await recordGranted(s, principalId, roles);
  };

  const uninstall = async () => {
    const ours = records<AssignmentRecord>(host, ASSIGNMENT);
    if (ours.length > 0)
      await operatorToken(ctx, `unbootstrap of arc.roles (deleting the ${ours.length} role assignment(s) flexnode created on ${ours[0]!.scope})`);
    for (const rec of ours) {
      const subscriptionId = /^\/subscriptions\/([^/]+)/i.exec(rec.scope)?.[1] ?? ctx.subscriptionId;
      const client = await authorizationClient(ctx, subscriptionId);
      try {
        await client.roleAssignments.delete(sdkScope(rec.scope), rec.name);
      } catch (error) {
        if (!isNotFound(error)) {
          throw toAzureError(error, {
            action: `delete the role assignment "${rec.role}" (${rec.name}) flexnode created on ${rec.scope}`,
            credential: credentialName(ctx),
            endpoint: ctx.resourceManagerEndpoint,
          });
        }
      }
      host.log.info(`removed the role assignment "${rec.role}" flexnode created on ${rec.scope}`);
      await host.changes.forget(ASSIGNMENT, (d) => d.id === rec.id);
    }
    await host.changes.forget(GRANTED);
    await host.changes.revert();
  };

  return { check, install, uninstall };
}

/** Which replication lag a 400 of a role assignment PUT shows, if any: the principal's, or (for flexnode's own role) the role's. */
function notReplicatedYet(error: unknown, ownRole: boolean): 'principal' | 'role' | undefined {
  if (statusOf(error) !== 400) return undefined;
  const text = `${(error as { code?: string }).code} ${(error as Error).message}`;
  if (/PrincipalNotFound/i.test(text)) return 'principal';
  if (ownRole && /RoleDefinitionDoesNotExist|RoleAssignmentScopeNotAssignableToRoleDefinition/i.test(text)) return 'role';
  return undefined;
}
