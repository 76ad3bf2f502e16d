// Built-in Azure role definitions the FAKE ARM serves, with their real permissions. Source: the Azure docs,
// "Azure built-in roles" (role-based-access-control/built-in-roles, the containers, general, privileged and
// hybrid-multicloud pages), as JSON there. Ids are the same in every tenant and cloud.
import type { RoleDefinitionState } from './azure-rbac.js';

type Builtin = { roleName: string; description: string; actions: string[]; notActions?: string[]; dataActions?: string[]; notDataActions?: string[] };

/** The AKS data-plane roles' common control-plane actions. */
const AKS_RBAC_ACTIONS = [
  'Microsoft.Authorization/*/read',
  'Microsoft.Resources/subscriptions/operationresults/read',
  'Microsoft.Resources/subscriptions/read',
  'Microsoft.Resources/subscriptions/resourceGroups/read',
];
const MC = 'Microsoft.ContainerService/managedClusters';

const RBAC_READER_DATA = [
  'apps/controllerrevisions/read',
  'apps/daemonsets/read',
  'apps/deployments/read',
  'apps/replicasets/read',
  'apps/statefulsets/read',
  'autoscaling/horizontalpodautoscalers/read',
  'batch/cronjobs/read',
  'batch/jobs/read',
  'configmaps/read',
  'discovery.k8s.io/endpointslices/read',
  'endpoints/read',
  'events.k8s.io/events/read',
  'events/read',
  'extensions/daemonsets/read',
  'extensions/deployments/read',
  'extensions/ingresses/read',
  'extensions/networkpolicies/read',
  'extensions/replicasets/read',
  'limitranges/read',
  'metrics.k8s.io/pods/read',
  'metrics.k8s.io/nodes/read',
  'namespaces/read',
  'networking.k8s.io/ingresses/read',
  'networking.k8s.io/networkpolicies/read',
  'persistentvolumeclaims/read',
  'pods/read',
  'policy/poddisruptionbudgets/read',
  'replicationcontrollers/read',
  'resourcequotas/read',
  'serviceaccounts/read',
  'services/read',
].map((a) => `${MC}/${a}`);

const RBAC_WRITER_DATA = [
  'apps/controllerrevisions/read',
  'apps/daemonsets/*',
  'apps/deployments/*',
  'apps/replicasets/*',
  'apps/statefulsets/*',
  'autoscaling/horizontalpodautoscalers/*',
  'batch/cronjobs/*',
  'coordination.k8s.io/leases/read',
  'coordination.k8s.io/leases/write',
  'coordination.k8s.io/leases/delete',
  'discovery.k8s.io/endpointslices/read',
  'batch/jobs/*',
  'configmaps/*',
  'endpoints/*',
  'events.k8s.io/events/read',
  'events/*',
  'extensions/daemonsets/*',
  'extensions/deployments/*',
  'extensions/ingresses/*',
  'extensions/networkpolicies/*',
  'extensions/replicasets/*',
  'limitranges/read',
  'metrics.k8s.io/pods/read',
  'metrics.k8s.io/nodes/read',
  'namespaces/read',
  'networking.k8s.io/ingresses/*',
  'networking.k8s.io/networkpolicies/*',
  'persistentvolumeclaims/*',
  'pods/*',
  'policy/poddisruptionbudgets/*',
  'replicationcontrollers/*',
  'resourcequotas/read',
  'secrets/*',
  'serviceaccounts/*',
  'services/*',
].map((a) => `${MC}/${a}`);

const BUILTINS: Record<string, Builtin> = {
  '4abbcc35-e782-43d8-92c5-2d3f1bd2253f': {
    roleName: 'Azure Kubernetes Service Cluster User Role',
    description: 'List cluster user credential action.',
    actions: [`${MC}/listClusterUserCredential/action`, `${MC}/read`],
  },
  '0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8': {
    roleName: 'Azure Kubernetes Service Cluster Admin Role',
    description: 'List cluster admin credential action.',
    actions: [`${MC}/listClusterAdminCredential/action`, `${MC}/accessProfiles/listCredential/action`, `${MC}/read`, `${MC}/runcommand/action`],
  },
  'b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b': {
    roleName: 'Azure Kubernetes Service RBAC Cluster Admin',
    description: 'Lets you manage all resources in the cluster.',
    actions: [...AKS_RBAC_ACTIONS, `${MC}/listClusterUserCredential/action`],
    dataActions: [`${MC}/*`],
  },
  '3498e952-d568-435e-9b2c-8d77e338d7f7': {
    roleName: 'Azure Kubernetes Service RBAC Admin',
    description: 'Lets you manage all resources under cluster/namespace, except update or delete resource quotas and namespaces.',
    actions: [...AKS_RBAC_ACTIONS, `${MC}/listClusterUserCredential/action`],
    dataActions: [`${MC}/*`],
    notDataActions: [`${MC}/resourcequotas/write`, `${MC}/resourcequotas/delete`, `${MC}/namespaces/write`, `${MC}/namespaces/delete`],
  },
  '7f6c6a51-bcf8-42ba-9220-52d62157d7db': {
    roleName: 'Azure Kubernetes Service RBAC Reader',
    description:
      'Allows read-only access to see most objects in a namespace. It does not allow viewing roles or role bindings. This role does not allow viewing Secrets, since reading the contents of Secrets enables access to ServiceAccount credentials in the namespace, which would allow API access as any ServiceAccount in the namespace (a form of privilege escalation). Applying this role at cluster scope will give access across all namespaces.',
    actions: AKS_RBAC_ACTIONS,
    dataActions: RBAC_READER_DATA,
  },
  'a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb': {
    roleName: 'Azure Kubernetes Service RBAC Writer',
    description:
      'Allows read/write access to most objects in a namespace.This role does not allow viewing or modifying roles or role bindings. However, this role allows accessing Secrets and running Pods as any ServiceAccount in the namespace, so it can be used to gain the API access levels of any ServiceAccount in the namespace. Applying this role at cluster scope will give access across all namespaces.',
    actions: AKS_RBAC_ACTIONS,
    dataActions: RBAC_WRITER_DATA,
  },
  'b64e21ea-ac4e-4cdf-9dc9-5b892992bee7': {
    roleName: 'Azure Connected Machine Onboarding',
    description: 'Can onboard Azure Connected Machines.',
    actions: [
      'Microsoft.HybridCompute/machines/read',
      'Microsoft.HybridCompute/machines/write',
      'Microsoft.HybridCompute/privateLinkScopes/read',
      'Microsoft.GuestConfiguration/guestConfigurationAssignments/read',
    ],
  },
  'cd570a14-e51a-42ad-bac8-bafd67325302': {
    roleName: 'Azure Connected Machine Resource Administrator',
    description: 'Can read, write, delete and re-onboard Azure Connected Machines.',
    actions: ['Microsoft.HybridCompute/machines/*', 'Microsoft.HybridCompute/*/read', 'Microsoft.Resources/subscriptions/resourceGroups/read'],
  },
  '8e3af657-a8ff-443c-a75c-2fe8c4bcb635': {
    roleName: 'Owner',
    description: 'Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.',
    actions: ['*'],
  },
  'b24988ac-6180-42a0-ab88-20f7382dd24c': {
    roleName: 'Contributor',
    description:
      'Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.',
    actions: ['*'],
    notActions: [
      'Microsoft.Authorization/*/Delete',
      'Microsoft.Authorization/*/Write',
      'Microsoft.Authorization/elevateAccess/Action',
      'Microsoft.Blueprint/blueprintAssignments/write',
      'Microsoft.Blueprint/blueprintAssignments/delete',
      'Microsoft.Compute/galleries/share/action',
      'Microsoft.Purview/consents/write',
      'Microsoft.Purview/consents/delete',
      'Microsoft.Resources/deploymentStacks/manageDenySetting/action',
      'Microsoft.Subscription/cancel/action',
      'Microsoft.Subscription/enable/action',
    ],
  },
  'acdd72a7-3385-48ef-bd42-f606fba81ae7': {
    roleName: 'Reader',
    description: 'View all resources, but does not allow you to make any changes.',
    actions: ['*/read'],
  },
  '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9': {
    roleName: 'User Access Administrator',
    description: 'Lets you manage user access to Azure resources.',
    actions: ['*/read', 'Microsoft.Authorization/*', 'Microsoft.Support/*'],
  },
  'f58310d9-a9f6-439a-9e8d-f62e7b41a168': {
    roleName: 'Role Based Access Control Administrator',
    description:
      'Manage access to Azure resources by assigning roles using Azure RBAC. This role does not allow you to manage access using other ways, such as Azure Policy.',
    actions: ['Microsoft.Authorization/roleAssignments/write', 'Microsoft.Authorization/roleAssignments/delete', '*/read', 'Microsoft.Support/*'],
  },
};

const BUILTIN_CREATED = '2019-02-05T19:13:27.4218316Z';

/** The built-in roles as stored definitions (type BuiltInRole, assignable at "/"). */
export function builtinRoleDefinitions(): RoleDefinitionState[] {
  return Object.entries(BUILTINS).map(([id, b]) => ({
    id,
    roleName: b.roleName,
    description: b.description,
    type: 'BuiltInRole',
    assignableScopes: ['/'],
    permissions: [{ actions: b.actions, notActions: b.notActions ?? [], dataActions: b.dataActions ?? [], notDataActions: b.notDataActions ?? [] }],
    createdOn: BUILTIN_CREATED,
    updatedOn: BUILTIN_CREATED,
  }));
}

/** Built-in role names by id (kept for older callers). */
export const BUILTIN_ROLES: Record<string, { roleName: string; description: string; actions: string[]; dataActions?: string[] }> = Object.fromEntries(
  Object.entries(BUILTINS).map(([id, b]) => [id, { roleName: b.roleName, description: b.description, actions: b.actions, dataActions: b.dataActions }]),
);

/** Well-known ids for tests. */
export const ROLE_IDS = {
  aksClusterUser: '4abbcc35-e782-43d8-92c5-2d3f1bd2253f',
  aksClusterAdmin: '0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8',
  aksRbacClusterAdmin: 'b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b',
  aksRbacAdmin: '3498e952-d568-435e-9b2c-8d77e338d7f7',
  aksRbacReader: '7f6c6a51-bcf8-42ba-9220-52d62157d7db',
  aksRbacWriter: 'a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb',
  owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  userAccessAdministrator: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
  rbacAdministrator: 'f58310d9-a9f6-439a-9e8d-f62e7b41a168',
} as const;
