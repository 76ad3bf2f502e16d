import { FlexnodeError, drifted, missing, ok, type AzureContext, type CheckResult, type FlexnodeConfig, type Host, type StepInstance } from '@flexnode/sdk';
import { authorizationClient, readManagedCluster, waitFor } from '../arm.js';
import { credentialName } from '../credential-name.js';
import { isAmbiguous, isNotFound, statusOf, toAzureError } from '../azure-errors.js';
import { nodeComponents } from '../node-role/components.js';
import { nodeRoleDefinitions, nodeRoleIdentities, type NodeRoleDefinition } from '../node-role/definitions.js';
import { RULES_VERIFIED_THROUGH, minorOf, nodeRoleExtras } from '../node-role/node-rules.js';
import { isOperatorMissing, operatorToken } from '../operator.js';
import { arcPluginConfig } from '../plugin-config.js';
import { records } from '../records.js';
import { arcSettings, sameId, sdkScope, type ArcSettings } from '../settings.js';

/** Journal record: a role definition this node defined or found as flexnode's, written before any PUT. */
export const ROLE_DEFINITION = 'arc.role-definition';

export interface RoleDefinitionRecord {
  /** Full ARM id of the definition. */
  id: string;
  guid: string;
  roleName: string;
  assignableScope: string;
  /** The cluster and Kubernetes minor its dataActions were derived for. */
  clusterId: string;
  kubernetesMinor: string;
  dataActions: string[];
  [key: string]: unknown;
}

type Definition = import('@azure/arm-authorization').RoleDefinition;

const fullId = (d: NodeRoleDefinition) => `${d.assignableScope}/providers/Microsoft.Authorization/roleDefinitions/${d.guid}`;
const lower = (xs: readonly string[] | undefined) => (xs ?? []).map((x) => x.toLowerCase()).sort();
const sameList = (a: readonly string[] | undefined, b: readonly string[] | undefined) => lower(a).join('\n') === lower(b).join('\n');

/**
 * The dataActions of `asked` that ARM's refusal names as not published by their resource provider:
 * `400 InvalidDataActionOrNotDataAction: '<action>' does not match any of the actions supported by the providers`
 * (hashicorp/terraform-provider-azurerm#24576; kubeguard/guard's own notes: an action guard emits that
 * Microsoft.ContainerService does not publish "cannot be granted explicitly"). Empty for any other error.
 */
export function unpublishedDataActions(error: unknown, asked: readonly string[]): string[] {
  const e = error as { code?: string; message?: string; details?: { error?: { code?: string } } };
  const code = e.code ?? e.details?.error?.code;
  if (code !== 'InvalidDataActionOrNotDataAction') return [];
  const named = [...String(e.message ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1]!.toLowerCase());
  return asked.filter((a) => named.includes(a.toLowerCase()));
}

/** Whether the definition in Azure is exactly the one flexnode would write. */
export function matches(found: Definition | undefined, want: NodeRoleDefinition): boolean {
  if (!found) return false;
  const p = found.permissions ?? [];
  return (
    found.roleName === want.roleName &&
    found.description === want.description &&
    sameList(found.assignableScopes, [want.assignableScope]) &&
    p.length === 1 &&
    sameList(p[0]!.dataActions, want.dataActions) &&
    !p[0]!.actions?.length &&
    !p[0]!.notActions?.length &&
    !p[0]!.notDataActions?.length
  );
}

/**
 * The operations of `arc.node-role` (declared in steps.ts): flexnode's custom roles for the node identity exist in
 * Azure with the dataActions of the cluster's Kubernetes version. Idempotent (GET, compare, PUT only on a
 * difference); journaled before each PUT; uninstall deletes each definition once no assignment uses it anymore
 * (ARM answers 409 RoleDefinitionHasAssignments while another node's assignment references it: it stays).
 */
export function arcNodeRoleOps({ host, config, ctx }: { host: Host; config: FlexnodeConfig; ctx: AzureContext }): StepInstance {
  const wanted = (s: ArcSettings) => nodeRoleIdentities(s.cluster, nodeComponents(config), nodeRoleExtras(config));
  const call = (action: string) => ({ action, credential: credentialName(ctx), endpoint: ctx.resourceManagerEndpoint });

  /** From the journal: each role was defined (or found current) for this cluster. Azure only without a record. */
  const check = async (): Promise<CheckResult> => {
    const s = arcSettings(config);
    const ours = records<RoleDefinitionRecord>(host, ROLE_DEFINITION);
    const want = wanted(s);
    const recorded = want.map((w) => ours.find((r) => r.guid === w.guid && sameId(r.clusterId, s.cluster.id) && r.roleName === w.roleName));
    if (recorded.every(Boolean)) {
      return ok(`${want.map((w) => `"${w.roleName}"`).join(', ')} defined for Kubernetes ${recorded[0]!.kubernetesMinor} (recorded)`);
    }
    try {
      await operatorToken(ctx, `checking arc.node-role (no record yet of flexnode's role definitions for ${s.cluster.name})`);
    } catch (error) {
      if (isOperatorMissing(error)) return missing(error.message);
      throw error;
    }
    const { definitions } = await expected(s);
    const client = await authorizationClient(ctx, s.cluster.subscriptionId);
    for (const d of definitions) {
      const found = await getDefinition(client, d);
      if (!matches(found, d)) return missing(`the custom role "${d.roleName}" ${found ? 'differs from the one for this cluster' : 'does not exist'}`);
    }
    return drifted(`the role definitions exist as flexnode defines them, but are not recorded for this node yet`);
  };

  /** The definitions for the cluster's current version (a read of the cluster with the operator's credential). */
  const expected = async (s: ArcSettings) => {
    const cluster = await readManagedCluster(ctx, s.cluster);
    const version = cluster.kubernetesVersion;
    if (!version || !minorOf(version)) {
      throw new FlexnodeError(
        'ARC_CLUSTER_VERSION',
        `the cluster ${s.cluster.name} reports no Kubernetes version: flexnode cannot derive the node role's dataActions`,
        {
          hint: 'check the cluster in the portal (az aks show --query currentKubernetesVersion); or name the roles yourself in azure.arc.roles',
        },
      );
    }
    const minor = minorOf(version)!.join('.');
    const [vMajor, vMinor] = minorOf(version)!;
    const [tMajor, tMinor] = minorOf(RULES_VERIFIED_THROUGH)!;
    if (vMajor > tMajor || (vMajor === tMajor && vMinor > tMinor)) {
      host.log.info(
        `the cluster runs Kubernetes ${minor}; flexnode's table of node rules was checked through ${RULES_VERIFIED_THROUGH} and is used as is (a missing dataAction would show as a 403 naming it)`,
      );
    }
    return { minor, definitions: nodeRoleDefinitions(s.cluster, nodeComponents(config), version, nodeRoleExtras(config)) };
  };

  const getDefinition = async (client: Awaited<ReturnType<typeof authorizationClient>>, d: NodeRoleDefinition): Promise<Definition | undefined> => {
    try {
      return await client.roleDefinitions.get(sdkScope(d.assignableScope), d.guid);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw toAzureError(error, call(`read the role definition "${d.roleName}"`));
    }
  };

  const install = async () => {
    const s = arcSettings(config);
    if (!host.dryRun) await operatorToken(ctx, `arc.node-role (defining flexnode's roles for the node identity on ${s.cluster.name})`);
    const { minor, definitions } = await expected(s);
    const client = await authorizationClient(ctx, s.cluster.subscriptionId);
    for (const d of definitions) {
      const found = await getDefinition(client, d);
      const rec: RoleDefinitionRecord = {
        id: fullId(d),
        guid: d.guid,
        roleName: d.roleName,
        assignableScope: d.assignableScope,
        clusterId: s.cluster.id,
        kubernetesMinor: minor,
        dataActions: d.dataActions,
      };
      const same = (r: Record<string, unknown>) => r.guid === d.guid;
      if (matches(found, d)) {
        if (!host.dryRun) await replace(rec, same);
        continue;
      }
      if (host.dryRun) {
        await host.changes.record(
          `${found ? 'update' : 'create'} the custom role "${d.roleName}" (${d.dataActions.length} dataActions of Kubernetes ${minor}) at ${d.assignableScope}`,
          { guid: d.guid },
        );
        continue;
      }
      // Write-ahead: a crash or a lost answer still leaves the journal knowing the definition may be there.
      await replace(rec, same);
      let written = d;
      const refused: string[] = [];
      for (;;) {
        try {
          await client.roleDefinitions.createOrUpdate(sdkScope(written.assignableScope), written.guid, {
            roleName: written.roleName,
            description: written.description,
            roleType: 'CustomRole',
            assignableScopes: [written.assignableScope],
            permissions: [{ actions: [], notActions: [], dataActions: written.dataActions, notDataActions: [] }],
          });
          break;
        } catch (error) {
          // A dataAction the resource provider does not publish (a Kubernetes API newer than AKS's operations
          // manifest): ARM refuses the whole role. Leave it out and say so; a new Kubernetes minor tries it again.
          const unpublished = unpublishedDataActions(error, written.dataActions);
          if (unpublished.length > 0) {
            refused.push(...unpublished);
            written = { ...written, dataActions: written.dataActions.filter((a) => !unpublished.includes(a)) };
            continue;
          }
          if (!found && !isAmbiguous(error)) await host.changes.forget(ROLE_DEFINITION, same); // refused: nothing was created
          throw toAzureError(error, call(`${found ? 'update' : 'create'} the custom role "${d.roleName}" for the node identity at ${d.assignableScope}`));
        }
      }
      if (refused.length > 0) {
        host.log.warn(
          `Azure does not publish ${refused.join(', ')} (InvalidDataActionOrNotDataAction): the custom role "${d.roleName}" is defined without ${refused.length === 1 ? 'it' : 'them'}, so the node identity is denied what ${refused.length === 1 ? 'it covers' : 'they cover'} (a 403 naming it) unless another of its roles grants it with a wildcard dataAction (RBAC Admin does)`,
        );
        await replace({ ...rec, dataActions: written.dataActions, unpublished: refused }, same);
      }
      host.log.info(`${found ? 'updated' : 'created'} the custom role "${d.roleName}": ${written.dataActions.length} dataActions of Kubernetes ${minor}`);
      await replicated(client, written);
    }
  };

  /**
   * ARM answers a role definition's PUT before every replica has it: for a while (minutes at times) a GET finds no
   * role (404 RoleDefinitionDoesNotExist) or the old one, and an assignment naming a new role is refused. arc.roles
   * assigns it next: wait until it reads back as written (this step's own check reads the journal's record, so a
   * re-run after a timeout goes on, and arc.roles retries the transient refusals itself).
   */
  const replicated = async (client: Awaited<ReturnType<typeof authorizationClient>>, d: NodeRoleDefinition) => {
    const pc = arcPluginConfig(config);
    const timeoutMs = (pc.propagationTimeoutSeconds ?? 300) * 1000;
    await waitFor(`Azure to replicate the custom role "${d.roleName}"`, async () => (matches(await getDefinition(client, d), d) ? true : undefined), {
      log: host.log,
      timeoutMs,
      intervalMs: pc.pollIntervalMs ?? 2000,
      onTimeout: () =>
        new FlexnodeError(
          'ARC_ROLE_NOT_REPLICATED',
          `the custom role "${d.roleName}" was written but ARM still reads ${timeoutMs / 1000} s later as it was before (replication)`,
          { hint: 'run bootstrap again in a few minutes (it resumes), or raise pluginConfig "@flexnode/plugin-arc".propagationTimeoutSeconds' },
        ),
    });
  };

  /** One record per definition: the newest replaces an older one (another minor, another set of actions). */
  const replace = async (rec: RoleDefinitionRecord, same: (r: Record<string, unknown>) => boolean) => {
    const old = records<RoleDefinitionRecord>(host, ROLE_DEFINITION).find(same);
    if (old && JSON.stringify(old) === JSON.stringify(rec)) return;
    await host.changes.forget(ROLE_DEFINITION, same);
    await host.changes.record(ROLE_DEFINITION, rec);
  };

  const uninstall = async () => {
    const ours = records<RoleDefinitionRecord>(host, ROLE_DEFINITION);
    if (ours.length > 0)
      await operatorToken(ctx, `unbootstrap of arc.node-role (deleting flexnode's ${ours.length} role definition(s) when no node uses them)`);
    for (const rec of ours) {
      const subscriptionId = /^\/subscriptions\/([^/]+)/i.exec(rec.assignableScope)?.[1] ?? ctx.subscriptionId;
      const client = await authorizationClient(ctx, subscriptionId);
      try {
        await client.roleDefinitions.delete(sdkScope(rec.assignableScope), rec.guid);
        host.log.info(`deleted the custom role "${rec.roleName}"`);
      } catch (error) {
        if (statusOf(error) === 409 && /RoleDefinitionHasAssignments/i.test(`${(error as { code?: string }).code} ${(error as Error).message}`)) {
          host.log.info(`kept the custom role "${rec.roleName}": other assignments (other nodes of the cluster) still use it`);
        } else if (!isNotFound(error)) {
          throw toAzureError(error, call(`delete the custom role "${rec.roleName}" at ${rec.assignableScope}`));
        }
      }
      await host.changes.forget(ROLE_DEFINITION, (d) => d.guid === rec.guid);
    }
    await host.changes.revert();
  };

  return { check, install, uninstall };
}
