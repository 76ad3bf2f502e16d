// The operations of plugin-arc's steps (steps.ts) and the asynchronous work of its services (services.ts), loaded
// on first use: lib/lazy/impl.js in the bundle. No Azure SDK here: each is imported where first called.
export { arcPreflightOps } from './steps/arc-preflight.js';
export { arcAgentOps } from './steps/arc-agent.js';
export { arcConnectOps } from './steps/arc-connect.js';
export { arcNodeRoleOps } from './steps/arc-node-role.js';
export { arcRolesOps } from './steps/arc-roles.js';
export { mirroredAgentArtifacts } from './agent-source.js';
export { chooseCredential } from './azure-credential.js';
export { ENTRA_UNREACHABLE, toAzureError } from './azure-errors.js';
export { ArcNodeIdentity } from './node-identity.js';
