import { ArcIdentity, AzureCredential, ConfigError, defineStep, Tokens, type FlexnodeConfig, type StepInstance } from '@flexnode/sdk';
import { arcPluginConfig } from './plugin-config.js';
import { nodeComponents } from './node-role/components.js';
import { configuredRoleNames, FLEXNODE_NODE_ROLE, includesNodeRole } from './role-names.js';

/**
 * The Arc steps' declarations. Their operations live in steps/*.ts and are imported when a step first runs:
 * `flexnode --help`, `steps` or `version` load this plugin without paying for its code (or the Azure SDKs).
 */
function lazy(load: () => Promise<StepInstance>): StepInstance {
  let instance: Promise<StepInstance> | undefined;
  const get = () => (instance ??= load());
  return {
    check: async () => (await get()).check(),
    install: async () => (await get()).install(),
    uninstall: async () => (await get()).uninstall(),
  };
}

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
  create: ({ host, config }) => lazy(async () => (await import('./steps/arc-preflight.js')).createArcPreflight(host, config)),
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
  // The `deb` and `binary` sources download a pinned file; `apt` installs from the package repository and
  // `none` installs nothing, so neither has an artifact to mirror.
  artifacts: async (config, arch) => {
    const agent = arcPluginConfig(config).agent ?? {};
    const source = agent.source ?? 'apt';
    if (source !== 'deb' && source !== 'binary') return [];
    // A node picks the .deb of its own release's repository; a mirror serves every node the one file it holds, so
    // it must be told which (the mirror path does not depend on the release).
    if (source === 'deb' && !agent.url && !agent.repository?.url) {
      throw new ConfigError('a mirror of the "deb" source of azcmagent needs the package\'s URL: the nodes\' release is not known where the mirror is made', [
        { path: 'pluginConfig["@flexnode/plugin-arc"].agent.url', message: 'required for flexnode mirror sync (or agent.repository.url)' },
      ]);
    }
    return [(await import('./agent-source.js')).agentArtifact(config, arch)];
  },
  inject: { host: Tokens.Host, config: Tokens.Config },
  create: ({ host, config }) => lazy(async () => (await import('./steps/arc-agent.js')).createArcAgent(host, config)),
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
  create: ({ host, config, ctx }) => lazy(async () => (await import('./steps/arc-connect.js')).createArcConnect(host, config, ctx)),
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
  create: ({ host, config, ctx }) => lazy(async () => (await import('./steps/arc-node-role.js')).createArcNodeRole(host, config, ctx)),
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
  create: ({ host, config, ctx, identity }) => lazy(async () => (await import('./steps/arc-roles.js')).createArcRoles(host, config, ctx, identity)),
});
