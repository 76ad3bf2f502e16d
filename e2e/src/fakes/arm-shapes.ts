// Response bodies of the FAKE ARM, shaped like the official x-ms-examples (shared/fixtures/azure and
// Azure/azure-rest-api-specs: Machines_Get, RoleAssignments_*, RoleDefinitions_Get, ManagedClustersGet,
// ManagedClustersListClusterUserCredentials). Pure functions of the fake's state.
import type { RoleDefinitionState } from './azure-rbac.js';

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
  /** The version as the user set it: `1.35` or `1.35.6`. */
  kubernetesVersion: string;
  /** The exact version the control plane runs. */
  currentKubernetesVersion: string;
  /** API server URL put in the returned kubeconfig (point it at the fake Kubernetes API). */
  serverUrl: string;
  /** base64 PEM of the CA put in the kubeconfig's certificate-authority-data. */
  caData: string;
  /** Public FQDN (absent on a private cluster without a public FQDN). */
  fqdn?: string;
  privateFqdn?: string;
  nodeResourceGroup: string;
  tenantId: string;
  /** null: not an AAD cluster (local accounts, client cert users). */
  aadProfile: { managed: boolean; enableAzureRBAC: boolean; tenantID?: string; adminGroupObjectIDs?: string[] } | null;
  /** The full network profile ARM answers (defaults already applied, see networkProfileDefaults). */
  networkProfile: NetworkProfile;
  disableLocalAccounts: boolean;
  principalId: string;
  /** Extra `properties` merged over the defaults. */
  extraProperties?: Record<string, unknown>;
}

export interface NetworkProfile {
  networkPlugin?: 'azure' | 'kubenet' | 'none' | string;
  networkPluginMode?: 'overlay' | string;
  networkDataplane?: 'azure' | 'cilium' | string;
  networkPolicy?: string;
  podCidr?: string;
  serviceCidr?: string;
  dnsServiceIP?: string;
  [k: string]: unknown;
}

/**
 * The network profile AKS reports for what the cluster was created with (aks-docs azure-cni-overlay.md,
 * configure-kubenet.md, concepts-network-cni-overview.md): no plugin given means Azure CNI Overlay; podCidr
 * 10.244.0.0/16 for overlay, kubenet and BYO CNI (none), none for Azure CNI with VNet-assigned pod IPs; serviceCidr
 * 10.0.0.0/16 and dnsServiceIP 10.0.0.10; Cilium dataplane brings the cilium network policy.
 */
export function networkProfileDefaults(given: Partial<NetworkProfile> = {}): NetworkProfile {
  const plugin = given.networkPlugin ?? 'azure';
  const overlay = plugin === 'azure' && (given.networkPluginMode ?? (given.networkPlugin ? undefined : 'overlay')) === 'overlay';
  const dataplane = given.networkDataplane ?? 'azure';
  const hasPodCidr = plugin === 'kubenet' || plugin === 'none' || overlay;
  const serviceCidr = given.serviceCidr ?? '10.0.0.0/16';
  const podCidr = given.podCidr ?? (hasPodCidr ? '10.244.0.0/16' : undefined);
  return {
    networkPlugin: plugin,
    ...(overlay ? { networkPluginMode: 'overlay' } : {}),
    networkDataplane: dataplane,
    networkPolicy: dataplane === 'cilium' ? 'cilium' : 'none',
    ...(podCidr ? { podCidr, podCidrs: [podCidr] } : {}),
    serviceCidr,
    serviceCidrs: [serviceCidr],
    dnsServiceIP: given.dnsServiceIP ?? '10.0.0.10',
    outboundType: 'loadBalancer',
    loadBalancerSku: 'standard',
    ipFamilies: ['IPv4'],
    ...given,
  };
}

/** Latest AKS patch per minor (Azure/AKS CHANGELOG, July 2026), for a cluster created with `major.minor` only. */
export const AKS_LATEST_PATCH: Record<string, string> = { '1.33': '1.33.13', '1.34': '1.34.9', '1.35': '1.35.6', '1.36': '1.36.2', '1.37': '1.37.0' };

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
        proxyUrl: '',
        incomingConnectionsPorts: [],
        extensionsAllowList: [],
        extensionsBlockList: [],
        proxyBypass: [],
        extensionsEnabled: 'true',
        guestConfigurationEnabled: 'true',
        configMode: 'full',
      },
    },
  };
}

export function roleDefinitionFullId(subscriptionId: string | undefined, id: string): string {
  return `${subscriptionId ? `/subscriptions/${subscriptionId}` : ''}/providers/Microsoft.Authorization/roleDefinitions/${id}`;
}

/** RoleDefinitions_Get shape; built-in roles are addressed under the subscription asked for, custom roles too. */
export function roleDefinitionBody(r: RoleDefinitionState, subscriptionId?: string): unknown {
  return {
    properties: {
      roleName: r.roleName,
      type: r.type,
      description: r.description ?? null,
      assignableScopes: r.assignableScopes,
      permissions: r.permissions,
      createdOn: r.createdOn,
      updatedOn: r.updatedOn,
      createdBy: r.createdBy ?? null,
      updatedBy: r.updatedBy ?? null,
    },
    id: roleDefinitionFullId(subscriptionId, r.id),
    type: 'Microsoft.Authorization/roleDefinitions',
    name: r.id,
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
      currentKubernetesVersion: c.currentKubernetesVersion,
      dnsPrefix: c.name,
      ...(c.fqdn ? { fqdn: c.fqdn, azurePortalFQDN: `portal.${c.fqdn}` } : {}),
      ...(c.privateFqdn ? { privateFQDN: c.privateFqdn } : {}),
      ...(c.privateFqdn ? { apiServerAccessProfile: { enablePrivateCluster: true, enablePrivateClusterPublicFQDN: !!c.fqdn } } : {}),
      agentPoolProfiles: [
        {
          name: 'nodepool1',
          count: 1,
          vmSize: 'Standard_DS2_v2',
          maxPods: 110,
          osType: 'Linux',
          mode: 'System',
          orchestratorVersion: c.kubernetesVersion,
          currentOrchestratorVersion: c.currentKubernetesVersion,
          provisioningState: 'Succeeded',
        },
      ],
      enableRBAC: true,
      ...(c.aadProfile ? { aadProfile: { tenantID: c.tenantId, adminGroupObjectIDs: [], ...c.aadProfile } } : {}),
      disableLocalAccounts: c.disableLocalAccounts,
      nodeResourceGroup: c.nodeResourceGroup,
      networkProfile: c.networkProfile,
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
