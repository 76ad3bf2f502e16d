export { default as plugin } from './plugin.js';
export { ArcAzureContext, type AzureContextOverrides } from './azure-context.js';
export { credentialName } from './credential-name.js';
export { ArcNodeIdentity, type NodeIdentityOptions } from './node-identity.js';
export { cliEntryPoint } from './exec-command.js';
export { toAzureError, type AzureCall } from './azure-errors.js';
export { cloudEndpoints, CLOUDS } from './clouds.js';
export { arcSettings, type ArcSettings } from './settings.js';
export { DEFAULT_ROLES, BUILTIN_ROLES, FLEXNODE_NODE_ROLE, ELEVATED_ROLES, configuredRoleNames } from './roles.js';
export {
  NODE_RULES,
  NODE_COMPONENTS,
  RULES_VERIFIED_THROUGH,
  rulesFor,
  minorOf,
  nodeRoleExtras,
  type NodeRuleRow,
  type NodeComponent,
  type RbacRule,
} from './node-role/node-rules.js';
export { dataActionsOf, guardAction, scopedDataActions, type ScopedDataActions } from './node-role/data-actions.js';
export { nodeRoleDefinitions, nodeRoleIdentities, stableGuid, type NodeRoleDefinition, type NodeRoleIdentity } from './node-role/definitions.js';
export { mayRunKubeProxy, nodeComponents } from './node-role/components.js';
export { arcAgent, arcConnect, arcNodeRole, arcPreflight, arcRoles, arcEnabled, whenAutoRoleAssignment, whenNodeRole } from './steps.js';
export {
  agentPackageSource,
  agentRepository,
  agentArtifact,
  ARC_RELEASES,
  MICROSOFT_KEYS,
  type AgentPackageSource,
  type AgentRepository,
  type ArcRelease,
} from './agent-source.js';
export { parseOsRelease, type OsRelease } from './os-release.js';
export { cachedToken, execCredential, scopeOf } from './token-cache.js';
export { MACHINE_RECORD, TOKEN_CACHE_DIR } from './paths.js';
export { PLUGIN_NAME, type ArcPluginConfig } from './plugin-config.js';
