// Response bodies of the FAKE ARM, shaped like the official x-ms-examples (shared/fixtures/azure and
// Azure/azure-rest-api-specs: Machines_Get, RoleAssignments_*, RoleDefinitions_Get, ManagedClustersGet,
// ManagedClustersListClusterUserCredentials). Pure functions of the fake's state.

export interface MachineState {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  tenantId: string;
  /** undefined: no system-assigned identity. */
  principalId?: string;
  tags?: Record<string, string>;
  vmId: string;
  agentVersion: string;
  status: 'Connected' | 'Disconnected' | 'Expired';
  correlationId?: string;
  createdAt: string;
}

export interface RoleAssignmentState {
  scope: string;
  name: string;
  roleDefinitionId: string;
  principalId: string;
  principalType: string;
  description?: string;
  createdOn: string;
  createdBy?: string;
}

export interface ClusterState {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  kubernetesVersion: string;
  /** API server URL put in the returned kubeconfig (point it at the fake Kubernetes API). */
  serverUrl: string;
  /** base64 PEM of the CA put in the kubeconfig's certificate-authority-data. */
  caData: string;
  fqdn: string;
  privateFqdn?: string;
  tenantId: string;
  /** null: not an AAD cluster (local accounts, client cert users). */
  aadProfile: { managed: boolean; enableAzureRBAC: boolean; tenantID?: string; adminGroupObjectIDs?: string[] } | null;
  networkProfile: { podCidr?: string; serviceCidr?: string; dnsServiceIP?: string; networkPlugin?: string; [k: string]: unknown };
  disableLocalAccounts: boolean;
  principalId: string;
  /** Extra `properties` merged over the defaults. */
  extraProperties?: Record<string, unknown>;
}

export const BUILTIN_ROLES: Record<string, { roleName: string; description: string; actions: string[]; dataActions?: string[] }> = {
  '4abbcc35-e782-43d8-92c5-2d3f1bd2253f': {
    roleName: 'Azure Kubernetes Service Cluster User Role',
    description: 'List cluster user credential action.',
    actions: ['Microsoft.ContainerService/managedClusters/listClusterUserCredential/action', 'Microsoft.ContainerService/managedClusters/read'],
  },
  '0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8': {
    roleName: 'Azure Kubernetes Service Cluster Admin Role',
    description: 'List cluster admin credential action.',
    actions: ['Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action', 'Microsoft.ContainerService/managedClusters/accessProfiles/listCredential/action', 'Microsoft.ContainerService/managedClusters/read', 'Microsoft.ContainerService/managedClusters/runcommand/action'],
  },
  'b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b': {
    roleName: 'Azure Kubernetes Service RBAC Cluster Admin',
    description: 'Lets you manage all resources in the cluster.',
    actions: ['Microsoft.Authorization/*/read', 'Microsoft.Resources/subscriptions/operationresults/read', 'Microsoft.Resources/subscriptions/read', 'Microsoft.Resources/subscriptions/resourceGroups/read', 'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action'],
    dataActions: ['Microsoft.ContainerService/managedClusters/*'],
  },
  '3498e952-d568-435e-9b2c-8d77e338d7f7': {
    roleName: 'Azure Kubernetes Service RBAC Admin',
    description: 'Lets you manage all resources under cluster/namespace, except update or delete resource quotas and namespaces.',
    actions: ['Microsoft.Authorization/*/read', 'Microsoft.Resources/subscriptions/operationresults/read', 'Microsoft.Resources/subscriptions/read', 'Microsoft.Resources/subscriptions/resourceGroups/read', 'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action'],
    dataActions: ['Microsoft.ContainerService/managedClusters/*'],
  },
  'b64e21ea-ac4e-4cdf-9dc9-5b892992bee7': {
    roleName: 'Azure Connected Machine Onboarding',
    description: 'Can onboard Azure Connected Machines.',
    actions: ['Microsoft.HybridCompute/machines/read', 'Microsoft.HybridCompute/machines/write', 'Microsoft.HybridCompute/privateLinkScopes/read', 'Microsoft.GuestConfiguration/guestConfigurationAssignments/read'],
  },
  'cd570a14-e51a-42ad-bac8-bafd67325302': {
    roleName: 'Azure Connected Machine Resource Administrator',
    description: 'Can read, write, delete and re-onboard Azure Connected Machines.',
    actions: ['Microsoft.HybridCompute/machines/*', 'Microsoft.HybridCompute/*/read', 'Microsoft.Resources/subscriptions/resourceGroups/read'],
  },
  '8e3af657-a8ff-443c-a75c-2fe8c4bcb635': { roleName: 'Owner', description: 'Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.', actions: ['*'] },
  'b24988ac-6180-42a0-ab88-20f7382dd24c': { roleName: 'Contributor', description: 'Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC.', actions: ['*'] },
  'acdd72a7-3385-48ef-bd42-f606fba81ae7': { roleName: 'Reader', description: 'View all resources, but does not allow you to make any changes.', actions: ['*/read'] },
  '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9': { roleName: 'User Access Administrator', description: 'Lets you manage user access to Azure resources.', actions: ['*/read', 'Microsoft.Authorization/*', 'Microsoft.Support/*'] },
};

export function machineId(m: Pick<MachineState, 'subscriptionId' | 'resourceGroup' | 'name'>): string {
  return `/subscriptions/${m.subscriptionId}/resourceGroups/${m.resourceGroup}/providers/Microsoft.HybridCompute/machines/${m.name}`;
}

export function clusterId(c: Pick<ClusterState, 'subscriptionId' | 'resourceGroup' | 'name'>): string {
  return `/subscriptions/${c.subscriptionId}/resourceGroups/${c.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${c.name}`;
}

export function machineBody(m: MachineState): unknown {
  return {
    id: machineId(m),
    name: m.name,
    location: m.location,
    tags: m.tags ?? null,
    identity: m.principalId ? { type: 'SystemAssigned', principalId: m.principalId, tenantId: m.tenantId } : null,
    type: 'Microsoft.HybridCompute/machines',
    properties: {
      provisioningState: 'Succeeded',
      agentVersion: m.agentVersion,
      status: m.status,
      lastStatusChange: m.createdAt,
      errorDetails: [],
      displayName: m.name,
      machineFqdn: m.name,
      vmUuid: m.vmId,
      osName: 'linux',
      osVersion: '6.1.0',
      osType: 'linux',
      osSku: 'Debian GNU/Linux 12 (bookworm)',
      domainName: null,
      adFqdn: null,
      dnsFqdn: m.name,
      vmId: m.vmId,
      locationData: null,
      clientPublicKey: 'string',
      mssqlDiscovered: 'false',
      detectedProperties: { cloudprovider: 'N/A', manufacturer: 'fake', model: 'fake-arm machine' },
      agentConfiguration: {
        proxyUrl: '', incomingConnectionsPorts: [], extensionsAllowList: [], extensionsBlockList: [], proxyBypass: [],
        extensionsEnabled: 'true', guestConfigurationEnabled: 'true', configMode: 'full',
      },
    },
  };
}

export function roleDefinitionFullId(subscriptionId: string | undefined, id: string): string {
  return `${subscriptionId ? `/subscriptions/${subscriptionId}` : ''}/providers/Microsoft.Authorization/roleDefinitions/${id}`;
}

export function roleDefinitionBody(id: string, subscriptionId?: string): unknown {
  const r = BUILTIN_ROLES[id];
  return {
    properties: {
      roleName: r.roleName,
      type: 'BuiltInRole',
      description: r.description,
      assignableScopes: ['/'],
      permissions: [{ actions: r.actions, notActions: [], dataActions: r.dataActions ?? [], notDataActions: [] }],
      createdOn: '2019-02-05T19:13:27.4218316Z',
      updatedOn: '2024-01-01T00:00:00.0000000Z',
      createdBy: null,
      updatedBy: null,
    },
    id: roleDefinitionFullId(subscriptionId, id),
    type: 'Microsoft.Authorization/roleDefinitions',
    name: id,
  };
}

export function roleAssignmentBody(a: RoleAssignmentState): unknown {
  return {
    properties: {
      roleDefinitionId: a.roleDefinitionId,
      principalId: a.principalId,
      principalType: a.principalType,
      scope: a.scope,
      condition: null,
      conditionVersion: null,
      createdOn: a.createdOn,
      updatedOn: a.createdOn,
      createdBy: a.createdBy ?? null,
      updatedBy: a.createdBy ?? null,
      delegatedManagedIdentityResourceId: null,
      description: a.description ?? null,
    },
    id: `${a.scope}/providers/Microsoft.Authorization/roleAssignments/${a.name}`,
    type: 'Microsoft.Authorization/roleAssignments',
    name: a.name,
  };
}

export function clusterBody(c: ClusterState): unknown {
  return {
    name: c.name,
    type: 'Microsoft.ContainerService/managedClusters',
    eTag: 'fakeetag',
    id: clusterId(c),
    location: c.location,
    sku: { name: 'Base', tier: 'Free' },
    identity: { type: 'SystemAssigned', principalId: c.principalId, tenantId: c.tenantId },
    properties: {
      provisioningState: 'Succeeded',
      powerState: { code: 'Running' },
      kubernetesVersion: c.kubernetesVersion,
      currentKubernetesVersion: c.kubernetesVersion,
      dnsPrefix: c.name,
      fqdn: c.fqdn,
      ...(c.privateFqdn ? { privateFQDN: c.privateFqdn } : {}),
      azurePortalFQDN: `portal.${c.fqdn}`,
      agentPoolProfiles: [{
        name: 'nodepool1', count: 1, vmSize: 'Standard_DS2_v2', maxPods: 110, osType: 'Linux', mode: 'System',
        orchestratorVersion: c.kubernetesVersion, currentOrchestratorVersion: c.kubernetesVersion, provisioningState: 'Succeeded',
      }],
      enableRBAC: true,
      ...(c.aadProfile ? { aadProfile: { tenantID: c.tenantId, adminGroupObjectIDs: [], ...c.aadProfile } } : {}),
      disableLocalAccounts: c.disableLocalAccounts,
      nodeResourceGroup: `MC_${c.resourceGroup}_${c.name}_${c.location}`,
      networkProfile: {
        networkPlugin: 'kubenet',
        podCidr: '10.244.0.0/16',
        serviceCidr: '10.0.0.0/16',
        dnsServiceIP: '10.0.0.10',
        outboundType: 'loadBalancer',
        loadBalancerSku: 'standard',
        ipFamilies: ['IPv4'],
        ...c.networkProfile,
      },
      ...(c.extraProperties ?? {}),
    },
    tags: {},
  };
}

/** The kubeconfig AKS returns from listClusterUserCredential / listClusterAdminCredential. */
export function kubeconfigYaml(c: ClusterState, kind: 'user' | 'admin', format: string | undefined, token: string): string {
  const cluster = c.name;
  const user = `cluster${kind === 'admin' ? 'Admin' : 'User'}_${c.resourceGroup}_${c.name}`;
  let userBlock: string;
  if (c.aadProfile && kind === 'user' && format === 'azure') {
    userBlock = [
      '    auth-provider:',
      '      config:',
      '        apiserver-id: 6dae42f8-4368-4678-94ff-3960e28e3630',
      '        client-id: 80faf920-1908-4b52-b5ef-a8e7bedfc67a',
      '        config-mode: "1"',
      '        environment: AzurePublicCloud',
      `        tenant-id: ${c.tenantId}`,
      '      name: azure',
    ].join('\n');
  } else if (c.aadProfile && kind === 'user') {
    userBlock = [
      '    exec:',
      '      apiVersion: client.authentication.k8s.io/v1beta1',
      '      args:',
      '      - get-token',
      '      - --environment',
      '      - AzurePublicCloud',
      '      - --server-id',
      '      - 6dae42f8-4368-4678-94ff-3960e28e3630',
      '      - --client-id',
      '      - 80faf920-1908-4b52-b5ef-a8e7bedfc67a',
      '      - --tenant-id',
      `      - ${c.tenantId}`,
      '      - --login',
      '      - devicecode',
      '      command: kubelogin',
      '      env: null',
      '      installHint: |2',
      '',
      '        kubelogin is not installed which is required to connect to AAD enabled cluster.',
      '',
      '        To learn more, please go to https://aka.ms/aks/kubelogin',
      '      provideClusterInfo: false',
    ].join('\n');
  } else {
    // Local accounts: a static token (the fake's stand-in for client-certificate-data/key).
    userBlock = `    token: ${token}`;
  }
  return [
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${c.caData}`,
    `    server: ${c.serverUrl}`,
    `  name: ${cluster}`,
    'contexts:',
    '- context:',
    `    cluster: ${cluster}`,
    `    user: ${user}`,
    `  name: ${cluster}`,
    `current-context: ${cluster}`,
    'kind: Config',
    'preferences: {}',
    'users:',
    `- name: ${user}`,
    '  user:',
    userBlock,
    '',
  ].join('\n');
}
