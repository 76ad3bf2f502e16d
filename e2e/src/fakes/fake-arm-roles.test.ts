// The fake ARM's role definitions, Azure RBAC checks and cluster shape, through the REAL pinned SDK clients
// (@azure/arm-authorization 9.0.0, @azure/arm-containerservice 25.3.0) and a real ClientSecretCredential.
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { ContainerServiceClient } from '@azure/arm-containerservice';
import { ClientSecretCredential } from '@azure/identity';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { FakeArm, PINNED_API_VERSIONS, ROLE_IDS } from './fake-arm.js';
import { FakeEntra } from './fake-entra.js';
import { trustPolicy } from './tls.js';

const SUB = '22222222-3333-4444-5555-666666666666';
const TENANT = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const RG = 'rg-roles';
const OPERATOR = { clientId: 'cccccccc-0000-0000-0000-0000000000f1', clientSecret: 'op-s3cret' };
const CLUSTER = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/aks`;
const MC = 'Microsoft.ContainerService/managedClusters';

describe('fake ARM: role definitions, Azure RBAC and the cluster as AKS reports it', function () {
  let entra: FakeEntra;
  let arm: FakeArm;
  let operatorOid: string;
  let authz: AuthorizationManagementClient;
  let aks: ContainerServiceClient;

  before(async () => {
    entra = await FakeEntra.start({ clients: [OPERATOR], tenantId: TENANT });
    operatorOid = entra.clients[0]!.objectId;
    arm = await FakeArm.start({
      tenantId: TENANT,
      enforceRbac: true,
      acceptToken: (t) => {
        const i = entra.lookup(t);
        return i ? { appId: i.clientId, objectId: i.objectId } : false;
      },
    });
    const policy = trustPolicy(arm.cert);
    const cred = new ClientSecretCredential(TENANT, OPERATOR.clientId, OPERATOR.clientSecret, {
      authorityHost: entra.url,
      disableInstanceDiscovery: true,
      additionalPolicies: [{ policy, position: 'perCall' }],
    });
    const opts = { endpoint: arm.url, additionalPolicies: [{ policy, position: 'perCall' as const }], retryOptions: { maxRetries: 0 } };
    authz = new AuthorizationManagementClient(cred, SUB, { ...opts, credentialScopes: ['https://management.azure.com/.default'] });
    aks = new ContainerServiceClient(cred, SUB, opts);
    arm.addCluster({ subscriptionId: SUB, resourceGroup: RG, name: 'aks', serverUrl: 'https://10.1.0.4:443', caData: 'Q0E=', kubernetesVersion: '1.36' });
  });
  after(async () => {
    await arm.stop();
    await entra.stop();
  });

  const role = (name: string, dataActions: string[]) => ({
    roleName: name,
    description: 'test role',
    roleType: 'CustomRole',
    assignableScopes: [`/subscriptions/${SUB}`],
    permissions: [{ actions: [], notActions: [], dataActions, notDataActions: [] }],
  });

  it("without Microsoft.Authorization/roleDefinitions/write, creating a custom role is ARM's 403 AuthorizationFailed", async () => {
    arm.grant(operatorOid, ROLE_IDS.contributor, `/subscriptions/${SUB}`);
    const id = randomUUID();
    const err = await authz.roleDefinitions.createOrUpdate(`subscriptions/${SUB}`, id, role('flexnode node', [`${MC}/nodes/read`])).then(
      () => undefined,
      (e: { statusCode?: number; code?: string; message: string }) => e,
    );
    expect(err?.statusCode).to.equal(403);
    expect(err?.code).to.equal('AuthorizationFailed');
    expect(err?.message).to.equal(
      `The client '${OPERATOR.clientId}' with object id '${operatorOid}' does not have authorization to perform action 'Microsoft.Authorization/roleDefinitions/write' over scope '/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${id}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    );
    expect(arm.roleDefinition(id)).to.equal(undefined);
  });

  it('with User Access Administrator: create (201), get, list by name, update, assign, refuse deleting while assigned (409), delete', async () => {
    arm.grant(operatorOid, ROLE_IDS.userAccessAdministrator, `/subscriptions/${SUB}`);
    const id = randomUUID();
    const created = await authz.roleDefinitions.createOrUpdate(`subscriptions/${SUB}`, id, role('flexnode node', [`${MC}/nodes/read`, `${MC}/nodes/write`]));
    expect(created).to.deep.include({ name: id, roleName: 'flexnode node', roleType: 'CustomRole' });
    expect(arm.requestsTo(`/roleDefinitions/${id}`, 'PUT').at(-1)!.status).to.equal(201);
    expect(arm.requestsTo(`/roleDefinitions/${id}`, 'PUT').at(-1)!.apiVersion).to.equal(PINNED_API_VERSIONS.roleDefinitions);
    expect((await authz.roleDefinitions.get(`subscriptions/${SUB}`, id)).permissions![0]!.dataActions).to.deep.equal([`${MC}/nodes/read`, `${MC}/nodes/write`]);
    const listed = [];
    for await (const d of authz.roleDefinitions.list(`subscriptions/${SUB}/resourceGroups/${RG}`, { filter: "roleName eq 'flexnode node'" }))
      listed.push(d.name);
    expect(listed).to.deep.equal([id]);
    const updated = await authz.roleDefinitions.createOrUpdate(`subscriptions/${SUB}`, id, role('flexnode node', [`${MC}/nodes/*`]));
    expect(updated.permissions![0]!.dataActions).to.deep.equal([`${MC}/nodes/*`]);
    expect(arm.requestsTo(`/roleDefinitions/${id}`, 'PUT').at(-1)!.status, 'an update answers 201 too').to.equal(201);
    const clash = await authz.roleDefinitions.createOrUpdate(`subscriptions/${SUB}`, randomUUID(), role('flexnode node', [])).then(
      () => undefined,
      (e: { statusCode?: number; code?: string }) => e,
    );
    expect(clash).to.include({ statusCode: 409, code: 'RoleDefinitionWithSameNameExists' });

    const node = randomUUID();
    const assignment = await authz.roleAssignments.create(CLUSTER.slice(1), randomUUID(), {
      roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${id}`,
      principalId: node,
      principalType: 'ServicePrincipal',
    });
    expect(arm.checkAccess([node], `${CLUSTER}/namespaces/default`, `${MC}/nodes/delete`, 'dataAction').allowed).to.equal(true);
    expect(arm.checkAccess([node], CLUSTER, `${MC}/pods/read`, 'dataAction').allowed).to.equal(false);
    const inUse = await authz.roleDefinitions.delete(`subscriptions/${SUB}`, id).then(
      () => undefined,
      (e: { statusCode?: number; code?: string; message: string }) => e,
    );
    expect(inUse).to.include({ statusCode: 409, code: 'RoleDefinitionHasAssignments', message: 'There are existing role assignments referencing role' });
    await authz.roleAssignments.delete(CLUSTER.slice(1), assignment.name!);
    const deleted = await authz.roleDefinitions.delete(`subscriptions/${SUB}`, id);
    expect(deleted?.name).to.equal(id);
    expect(arm.roleDefinition(id)).to.equal(undefined);
  });

  it('refuses custom roles Azure refuses: root or wildcard assignable scopes, two wildcards in an action', async () => {
    const bad = async (def: ReturnType<typeof role>) =>
      authz.roleDefinitions.createOrUpdate(`subscriptions/${SUB}`, randomUUID(), def).then(
        () => undefined,
        (e: { statusCode?: number; code?: string }) => `${e.statusCode} ${e.code}`,
      );
    expect(await bad({ ...role('r1', []), assignableScopes: ['/'] })).to.equal('400 InvalidAssignableScope');
    expect(await bad({ ...role('r2', []), assignableScopes: [`/subscriptions/*`] })).to.equal('400 InvalidAssignableScope');
    expect(await bad(role('r3', [`${MC}/*/pods/*`]))).to.equal('400 InvalidActionOrNotAction');
  });

  it('evaluates roles as Azure does: wildcards, notDataActions within a role, scope inheritance, actions never grant data actions', () => {
    const p = randomUUID();
    arm.grant(p, ROLE_IDS.aksRbacAdmin, `/subscriptions/${SUB}/resourceGroups/${RG}`);
    expect(arm.checkAccess([p], `${CLUSTER}/namespaces/x`, `${MC}/secrets/read`, 'dataAction').allowed).to.equal(true);
    expect(arm.checkAccess([p], CLUSTER, `${MC}/namespaces/write`, 'dataAction').allowed).to.equal(false);
    const q = randomUUID();
    arm.grant(q, ROLE_IDS.owner, `/subscriptions/${SUB}`);
    expect(arm.checkAccess([q], CLUSTER, 'Microsoft.Authorization/roleDefinitions/write', 'action').allowed).to.equal(true);
    expect(arm.checkAccess([q], CLUSTER, `${MC}/pods/read`, 'dataAction').allowed, 'Owner has no dataActions').to.equal(false);
    const r = randomUUID();
    arm.grant(r, ROLE_IDS.aksRbacAdmin, CLUSTER);
    arm.grant(r, ROLE_IDS.aksRbacReader, CLUSTER);
    expect(arm.checkAccess([r], CLUSTER, `${MC}/namespaces/write`, 'dataAction').allowed, 'not* of one role does not subtract from another').to.equal(false);
    expect(arm.checkAccess([r], `/subscriptions/${SUB}`, `${MC}/pods/read`, 'dataAction').allowed, 'no inheritance upwards').to.equal(false);
  });

  it('managedClusters.get: kubernetesVersion as set and the current patch, AKS network defaults, node resource group, private FQDN', async () => {
    const c = await aks.managedClusters.get(RG, 'aks');
    expect(c).to.deep.include({ kubernetesVersion: '1.36', currentKubernetesVersion: '1.36.2', nodeResourceGroup: `MC_${RG}_aks_eastus`, fqdn: '10.1.0.4' });
    expect(c.networkProfile).to.deep.include({
      networkPlugin: 'azure',
      networkPluginMode: 'overlay',
      networkDataplane: 'azure',
      podCidr: '10.244.0.0/16',
      serviceCidr: '10.0.0.0/16',
      dnsServiceIP: '10.0.0.10',
    });
    expect(c.aadProfile).to.deep.include({ managed: true, enableAzureRbac: true, tenantID: TENANT });
    arm.addCluster({
      subscriptionId: SUB,
      resourceGroup: RG,
      name: 'aks-vnet',
      serverUrl: 'https://aks-vnet-dns.privatelink.westeurope.azmk8s.io:443',
      caData: 'Q0E=',
      private: true,
      location: 'westeurope',
      networkProfile: { networkPlugin: 'azure', networkPluginMode: undefined },
    });
    const p = await aks.managedClusters.get(RG, 'aks-vnet');
    expect(p.fqdn).to.equal(undefined);
    expect(p.privateFqdn).to.equal('aks-vnet-dns.privatelink.westeurope.azmk8s.io');
    expect(p.apiServerAccessProfile?.enablePrivateCluster).to.equal(true);
    expect(p.networkProfile?.podCidr, 'Azure CNI with VNet pod IPs has no pod CIDR').to.equal(undefined);
    arm.addCluster({
      subscriptionId: SUB,
      resourceGroup: RG,
      name: 'aks-kubenet',
      serverUrl: 'https://127.0.0.1:1',
      caData: '',
      networkProfile: { networkPlugin: 'kubenet', podCidr: '10.200.0.0/16' },
    });
    const k = await aks.managedClusters.get(RG, 'aks-kubenet');
    expect(k.networkProfile).to.deep.include({ networkPlugin: 'kubenet', podCidr: '10.200.0.0/16' });
    expect(k.networkProfile?.networkPluginMode).to.equal(undefined);
  });
});
