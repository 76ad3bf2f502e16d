import type { FlexnodeConfig } from '@flexnode/sdk';
import { nodeComponents } from './node-role/components.js';

// Which roles the node identity gets, by name: light enough for steps.ts (loaded on every CLI start).

const CLUSTER_USER_ROLE = 'Azure Kubernetes Service Cluster User Role';

/** The name that stands for flexnode's own custom roles (node-role/) in `azure.arc.roles`. */
export const FLEXNODE_NODE_ROLE = 'flexnode-node';

/**
 * The roles granted to the Arc identity on the cluster when `azure.arc.roles` is not set (why: README,
 * "Roles of the node identity"), in `arc-msi` mode:
 *  - Cluster User Role: read the cluster and list its user credentials (server URL and CA), nothing in the cluster;
 *  - flexnode-node: flexnode's custom roles with the dataActions guard maps from the `system:node` ClusterRole of
 *    the cluster's Kubernetes version (leases only in kube-node-lease), and from `system:node-proxier` when flexnode
 *    may run kube-proxy (node-role/components.ts).
 * In `bootstrap-token` mode the kubelet authenticates with its own certificate: the identity gets only the roles of
 * a kube-proxy flexnode may run (flexnode-node with kube-proxy's rules alone), else none.
 */
export const DEFAULT_ROLES = [CLUSTER_USER_ROLE, FLEXNODE_NODE_ROLE];

/** The roles as configured, or the default for the configured `kubernetes.auth` mode. */
export function configuredRoleNames(config: FlexnodeConfig): string[] {
  if (config.azure.arc?.roles) return config.azure.arc.roles.map((r) => r.trim());
  if (config.kubernetes?.auth !== 'bootstrap-token') return [...DEFAULT_ROLES];
  return nodeComponents(config).length > 0 ? [FLEXNODE_NODE_ROLE] : [];
}

/** Whether the configured roles include flexnode's custom roles. */
export function includesNodeRole(config: FlexnodeConfig): boolean {
  return configuredRoleNames(config).some((r) => r.toLowerCase() === FLEXNODE_NODE_ROLE);
}
