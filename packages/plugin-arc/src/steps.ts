import { ArcIdentity, AzureCredential, deferredStep, defineStep, Tokens, type FlexnodeConfig } from '@flexnode/sdk';
import { nodeComponents } from './node-role/components.js';
import { configuredRoleNames, FLEXNODE_NODE_ROLE, includesNodeRole } from './role-names.js';

// Every command that reads steps imports this module (through the plugin's entry): it holds the definitions and
// their `when` predicates only. What the steps do (steps/*.ts) is in impl.ts, imported the first time a step runs
// (the SDK's deferredStep: core loads it before a run changes anything), so `flexnode --help`, `steps` or
// `version` parse none of it.
const impl = () => import('./impl.js');

/** Whether the Arc steps apply at all (`azure.arc.enabled: false` turns them off). */
export function arcEnabled(config: FlexnodeConfig): true | string {
  return config.azure.arc?.enabled === false ? 'azure.arc.enabled is false: the machine is not registered with Azure Arc' : true;
}

/** arc.roles applies when `azure.arc.autoRoleAssignment` is true (and Arc is enabled) and there is a role to grant. */
export function whenAutoRoleAssignment(config: FlexnodeConfig): true | string {
  const enabled = arcEnabled(config);
  if (enabled !== true) return enabled;
  if (config.azure.arc?.autoRoleAssignment !== true) {
    return 'azure.arc.autoRoleAssignment is not true: grant the node identity its roles yourself (plugin-arc README, "Roles of the node identity")';
  }
  if (configuredRoleNames(config).length === 0) {
    return config.azure.arc?.roles
      ? 'azure.arc.roles is empty: the node identity gets no role on the cluster'
      : 'kubernetes.auth is bootstrap-token (the kubelet has its own certificate) and flexnode runs no kube-proxy (kubernetes.serviceProxy): the node identity needs no role on the cluster';
  }
  return true;
}

/** arc.node-role applies when arc.roles does and the roles include flexnode's own ("flexnode-node", the default). */
export function whenNodeRole(config: FlexnodeConfig): true | string {
  const roles = whenAutoRoleAssignment(config);
  if (roles !== true) return roles;
  if (!includesNodeRole(config)) return `azure.arc.roles does not name "${FLEXNODE_NODE_ROLE}": flexnode defines no custom role`;
  return nodeComponents(config).length > 0
    ? true
    : `no component of this node authenticates with the Arc identity (kubernetes.auth is bootstrap-token, and flexnode runs no kube-proxy): "${FLEXNODE_NODE_ROLE}" grants nothing`;
}

/**
 * `arc.preflight`: before anything changes, the machine must not be an Azure VM (Arc is for machines outside Azure;
 * a local DMI check, never the metadata address) and, while the agent is missing, its source must resolve for this
 * release (Microsoft publishes the agent for some releases only). Read-only.
 */
export const arcPreflight = defineStep({
  id: 'arc.preflight',
  title: 'Arc preflight (not an Azure VM; the agent is available for this release)',
  // It gates the Arc steps (and what needs the identity); a run restricted to others (--only) leaves it out.
  preflight: { for: ['arc.agent', 'arc.connect', 'arc.node-role', ArcIdentity] },
  when: arcEnabled,
  inject: { host: Tokens.Host, config: Tokens.Config },
  create: (deps) => deferredStep(async () => (await impl()).arcPreflightOps(deps)),
});

/**
 * `arc.agent`: the Azure Connected Machine agent (azcmagent), installed when missing from the configured source
 * (`pluginConfig["@flexnode/plugin-arc"].agent.source`: apt (default: Microsoft's signed repository for this
 * release), deb, binary or none), with the config's proxy set on it. An agent that was already there is never
 * removed.
 */
export const arcAgent = defineStep({
  id: 'arc.agent',
  title: 'Azure Connected Machine agent (azcmagent)',
  when: arcEnabled,
  // The pinned file of the `deb` and `binary` sources; `apt` and `none` have none to mirror.
  artifacts: async (config, arch) => (await impl()).mirroredAgentArtifacts(config, arch),
  inject: { host: Tokens.Host, config: Tokens.Config },
  create: (deps) => deferredStep(async () => (await impl()).arcAgentOps(deps)),
});

/**
 * `arc.connect`: the machine is connected to Azure Arc as `azure.arc.machineName` in the configured resource
 * group and location (defaults: the cluster's), and its Microsoft.HybridCompute/machines resource has a
 * system-assigned identity. Uninstall disconnects and deletes the resource only when the journal says flexnode
 * connected it.
 */
export const arcConnect = defineStep({
  id: 'arc.connect',
  title: 'Azure Arc registration (azcmagent connect, machine identity)',
  provides: [ArcIdentity],
  after: ['arc.agent'],
  when: arcEnabled,
  inject: { host: Tokens.Host, config: Tokens.Config, ctx: AzureCredential },
  create: (deps) => deferredStep(async () => (await impl()).arcConnectOps(deps)),
});

/**
 * `arc.node-role`: flexnode's custom roles for the node identity (node-role/: the dataActions guard maps from the
 * `system:node` ClusterRole of the cluster's Kubernetes version, leases only in kube-node-lease) are defined in
 * Azure at the cluster's resource group. Created or updated idempotently, journaled; uninstall deletes a definition
 * once no assignment uses it.
 */
export const arcNodeRole = defineStep({
  id: 'arc.node-role',
  title: "flexnode's custom roles for the node identity (system:node's dataActions)",
  when: whenNodeRole,
  inject: { host: Tokens.Host, config: Tokens.Config, ctx: AzureCredential },
  create: (deps) => deferredStep(async () => (await impl()).arcNodeRoleOps(deps)),
});

/**
 * `arc.roles`: the Arc machine's identity holds the configured roles (`azure.arc.roles`, default: Cluster User
 * Role + flexnode's node roles, see roles.ts and the README) on the target cluster. Existing assignments are found and kept
 * (never journaled as flexnode's); missing ones are created with a new GUID, journaled before the PUT; a 409
 * RoleAssignmentExists counts as success. Uninstall deletes only the journaled ones.
 */
export const arcRoles = defineStep({
  id: 'arc.roles',
  title: 'Role assignments of the Arc machine identity on the cluster',
  provides: [ArcIdentity],
  after: ['arc.connect', 'arc.node-role'],
  when: whenAutoRoleAssignment,
  inject: { host: Tokens.Host, config: Tokens.Config, ctx: AzureCredential, identity: ArcIdentity },
  create: (deps) => deferredStep(async () => (await impl()).arcRolesOps(deps)),
});
