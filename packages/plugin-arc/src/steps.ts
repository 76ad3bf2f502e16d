import {
  capabilityToken, defineStep, Tokens,
  type AzureContext, type FlexnodeConfig, type Host, type NodeIdentity, type StepInstance,
} from '@flexnode/sdk';
import { arcPluginConfig } from './plugin-config.js';

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

/** arc.roles applies when `azure.arc.autoRoleAssignment` is true (and Arc is enabled). */
export function whenAutoRoleAssignment(config: FlexnodeConfig): true | string {
  const enabled = arcEnabled(config);
  if (enabled !== true) return enabled;
  return config.azure.arc?.autoRoleAssignment === true
    ? true
    : 'azure.arc.autoRoleAssignment is not true: grant the node identity its roles yourself (plugin-arc README, "Roles of the node identity")';
}

/**
 * `arc.agent`: the Azure Connected Machine agent (azcmagent), installed when missing from the configured source
 * (`pluginConfig["@flexnode/plugin-arc"].agent.source`: apt (default), deb, binary or none). An agent that was
 * already there is never removed.
 */
export const arcAgent = defineStep({
  id: 'arc.agent',
  title: 'Azure Connected Machine agent (azcmagent)',
  when: arcEnabled,
  // The `deb` and `binary` sources download a pinned file; `apt` installs from the package repository and
  // `none` installs nothing, so neither has an artifact to mirror.
  artifacts: async (config, arch) => {
    const source = arcPluginConfig(config).agent?.source ?? 'apt';
    if (source !== 'deb' && source !== 'binary') return [];
    return [(await import('./steps/arc-agent.js')).agentArtifact(config, arch)];
  },
  inject: [Tokens.Host, Tokens.Config],
  create: (host: Host, config: FlexnodeConfig) => lazy(async () => (await import('./steps/arc-agent.js')).createArcAgent(host, config)),
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
  provides: ['arc-identity'],
  after: ['arc.agent'],
  when: arcEnabled,
  inject: [Tokens.Host, Tokens.Config, capabilityToken('azure-credential')],
  create: (host: Host, config: FlexnodeConfig, ctx: AzureContext) =>
    lazy(async () => (await import('./steps/arc-connect.js')).createArcConnect(host, config, ctx)),
});

/**
 * `arc.roles`: the Arc machine's identity holds the configured roles (`azure.arc.roles`, default: Cluster User
 * Role + RBAC Admin, see roles.ts and the README) on the target cluster. Existing assignments are found and kept
 * (never journaled as flexnode's); missing ones are created with a new GUID, journaled before the PUT; a 409
 * RoleAssignmentExists counts as success. Uninstall deletes only the journaled ones.
 */
export const arcRoles = defineStep({
  id: 'arc.roles',
  title: 'Role assignments of the Arc machine identity on the cluster',
  provides: ['arc-identity'],
  after: ['arc.connect'],
  when: whenAutoRoleAssignment,
  inject: [Tokens.Host, Tokens.Config, capabilityToken('azure-credential'), capabilityToken('arc-identity')],
  create: (host: Host, config: FlexnodeConfig, ctx: AzureContext, identity: NodeIdentity) =>
    lazy(async () => (await import('./steps/arc-roles.js')).createArcRoles(host, config, ctx, identity)),
});
