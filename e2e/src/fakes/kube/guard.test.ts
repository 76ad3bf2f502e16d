// AKS's Azure RBAC for Kubernetes as the fake does it: guard's request -> dataAction mapping, Entra ID
// authentication (upn, else oid; audience and tenant checked) and authorization against the role assignments and
// (custom) role definitions held by the fake ARM.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { FakeArm, ROLE_IDS } from '../fake-arm.js';
import { FakeEntra } from '../fake-entra.js';
import { FakeKubeApi } from '../fake-kube-api.js';
import { issueEntraToken } from '../jwt.js';
import { AKS_SERVER_APP_ID } from './authn.js';
import { kubeClient } from './client.test.helpers.js';
import { dataActionOf, guardScope } from './guard.js';
import { parseRequest } from './request-info.js';

const SUB = '00000000-0000-0000-0000-0000000000aa';
const TENANT = 'cccccccc-0000-0000-0000-0000000000cc';
const CLUSTER = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks`;
const MC = 'Microsoft.ContainerService/managedClusters';

describe('guard: the dataAction of a request', () => {
  const action = (method: string, path: string, query: Record<string, string> = {}) => dataActionOf(parseRequest(method, path, query));

  it('maps verbs to read/write/delete and drops the core group, names and subresources (except pods/exec)', () => {
    expect(action('GET', '/api/v1/nodes/n1')).to.equal(`${MC}/nodes/read`);
    expect(action('GET', '/api/v1/pods', { watch: '1' })).to.equal(`${MC}/pods/read`);
    expect(action('PATCH', '/api/v1/namespaces/default/pods/p/status')).to.equal(`${MC}/pods/write`);
    expect(action('POST', '/api/v1/namespaces/default/pods/p/eviction')).to.equal(`${MC}/pods/write`);
    expect(action('POST', '/api/v1/namespaces/default/serviceaccounts/default/token')).to.equal(`${MC}/serviceaccounts/write`);
    expect(action('POST', '/api/v1/namespaces/default/pods/p/exec')).to.equal(`${MC}/pods/exec/action`);
    expect(action('PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1')).to.equal(`${MC}/coordination.k8s.io/leases/write`);
    expect(action('DELETE', '/api/v1/namespaces/default/configmaps')).to.equal(`${MC}/configmaps/delete`);
    expect(action('POST', '/apis/authentication.k8s.io/v1/tokenreviews')).to.equal(`${MC}/authentication.k8s.io/tokenreviews/write`);
    expect(dataActionOf({ ...parseRequest('GET', '/api/v1/users/alice', {}), verb: 'impersonate' })).to.equal(`${MC}/users/impersonate/action`);
    expect(dataActionOf({ ...parseRequest('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/x', {}), verb: 'bind' })).to.equal(
      `${MC}/rbac.authorization.k8s.io/clusterroles/bind/action`,
    );
  });

  it('scopes namespaced requests to <cluster>/namespaces/<ns> and cluster-scoped ones to the cluster', () => {
    expect(guardScope(CLUSTER, parseRequest('GET', '/api/v1/namespaces/kube-node-lease/configmaps/x', {}))).to.equal(`${CLUSTER}/namespaces/kube-node-lease`);
    expect(guardScope(CLUSTER, parseRequest('GET', '/api/v1/nodes', {}))).to.equal(CLUSTER);
  });
});

describe('guard: Entra identities on an Azure RBAC cluster', function () {
  let arm: FakeArm;
  let entra: FakeEntra;
  let kube: FakeKubeApi;
  let call: ReturnType<typeof kubeClient>;
  const mi = (oid: string, audience = AKS_SERVER_APP_ID, tenantId = TENANT, lifetimeSec = 600) => ({
    token: issueEntraToken({ tenantId, audience, objectId: oid, appId: randomUUID(), lifetimeSec }).token,
  });

  before(async () => {
    arm = await FakeArm.start({ tenantId: TENANT });
    entra = await FakeEntra.start({ tenantId: TENANT });
    kube = await FakeKubeApi.start();
    arm.addCluster({ subscriptionId: SUB, resourceGroup: 'rg', name: 'aks', kube });
    call = kubeClient(kube);
  });
  after(async () => {
    await kube.stop();
    await arm.stop();
    await entra.stop();
  });

  it('authenticates a user as the upn and a managed identity as its object id; wrong audience, tenant or expiry is a 401', async () => {
    const alice = entra.userToken({ upn: 'alice@contoso.example' }, `${AKS_SERVER_APP_ID}/.default`);
    const who = await call(
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      { token: alice.token },
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    );
    expect(who.json.status.userInfo).to.deep.include({ username: 'alice@contoso.example', extra: { oid: [alice.objectId] } });
    const oid = randomUUID();
    const me = await call('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', mi(oid), {});
    expect(me.json.status.userInfo.username).to.equal(oid);
    expect((await call('GET', '/api/v1/nodes', mi(oid, 'https://management.azure.com'))).status, 'a token for ARM').to.equal(401);
    expect((await call('GET', '/api/v1/nodes', mi(oid, AKS_SERVER_APP_ID, 'dddddddd-0000-0000-0000-000000000000'))).status, 'another tenant').to.equal(401);
    expect((await call('GET', '/api/v1/nodes', mi(oid, AKS_SERVER_APP_ID, TENANT, -120))).status, 'expired').to.equal(401);
  });

  it('RBAC Admin allows what a kubelet does but not namespace writes; no assignment, or the Cluster User Role only, is 403 naming the dataAction', async () => {
    const oid = randomUUID();
    const none = await call('GET', '/api/v1/nodes', mi(oid));
    expect(none.status).to.equal(403);
    expect(none.json.message).to.equal(
      `nodes is forbidden: User "${oid}" cannot list resource "nodes" in API group "" at the cluster scope: Access denied for action: ${MC}/nodes/read`,
    );
    arm.grant(oid, ROLE_IDS.aksClusterUser, CLUSTER);
    expect((await call('GET', '/api/v1/nodes', mi(oid))).status, 'Cluster User Role has no dataActions').to.equal(403);
    arm.grant(oid, ROLE_IDS.aksRbacAdmin, CLUSTER);
    expect((await call('POST', '/api/v1/nodes', mi(oid), { metadata: { name: 'edge-1' } })).status).to.equal(201);
    expect((await call('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', mi(oid), { metadata: { name: 'edge-1' } })).status).to.equal(
      201,
    );
    const ns = await call('POST', '/api/v1/namespaces', mi(oid), { metadata: { name: 'x' } });
    expect(ns.json.message).to.match(new RegExp(`Access denied for action: ${MC}/namespaces/write$`));
    const sar = await call('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', mi(oid), {
      spec: { resourceAttributes: { verb: 'delete', resource: 'namespaces', name: 'x' } },
    });
    expect(sar.json.status).to.deep.equal({ allowed: false, denied: true, reason: `Access denied for action: ${MC}/namespaces/delete` });
  });

  it('a custom role missing serviceaccounts/write gives exactly the 403 naming it for the TokenRequest', async () => {
    const oid = randomUUID();
    const role = arm.addRoleDefinition({
      roleName: `kubelet minus token ${oid}`,
      assignableScopes: [`/subscriptions/${SUB}`],
      permissions: [{ dataActions: [`${MC}/*/read`, `${MC}/pods/write`] }],
    });
    arm.grant(oid, role.id, CLUSTER);
    const admin = await kube.issueClientCert('masterclient', ['system:masters']);
    await call('POST', '/api/v1/namespaces/default/serviceaccounts', admin, { metadata: { name: 'app' } });
    expect((await call('GET', '/api/v1/namespaces/default/serviceaccounts/app', mi(oid))).status, '*/read matches serviceaccounts/read').to.equal(200);
    const tr = await call('POST', '/api/v1/namespaces/default/serviceaccounts/app/token', mi(oid), { spec: {} });
    expect(tr.status).to.equal(403);
    expect(tr.json.message).to.equal(
      `serviceaccounts "app" is forbidden: User "${oid}" cannot create resource "serviceaccounts/token" in API group "" in the namespace "default": Access denied for action: ${MC}/serviceaccounts/write`,
    );
  });

  it('namespace-scoped assignments apply in that namespace only; group assignments apply to members', async () => {
    const oid = randomUUID();
    arm.grant(oid, ROLE_IDS.aksRbacReader, `${CLUSTER}/namespaces/kube-node-lease`);
    expect((await call('GET', '/api/v1/namespaces/kube-node-lease/configmaps', mi(oid))).status).to.equal(200);
    expect((await call('GET', '/api/v1/namespaces/default/configmaps', mi(oid))).status).to.equal(403);
    const group = randomUUID();
    arm.grant(group, ROLE_IDS.aksRbacReader, CLUSTER, 'Group');
    const bob = entra.userToken({ upn: 'bob@contoso.example', groups: [group] }, `${AKS_SERVER_APP_ID}/.default`);
    expect((await call('GET', '/api/v1/namespaces/default/pods', { token: bob.token })).status).to.equal(200);
    expect((await call('GET', '/api/v1/namespaces/default/secrets', { token: bob.token })).status, 'Reader cannot read secrets').to.equal(403);
  });

  it('system: users get no opinion from guard; Kubernetes RBAC bindings still work for Entra users', async () => {
    const { token } = kube.createBootstrapToken({ groups: ['system:bootstrappers:worker'] });
    const nodes = await call('GET', '/api/v1/nodes', { token });
    expect(nodes.json.message).to.match(/cannot list resource "nodes" in API group "" at the cluster scope: Azure does not have opinion for this user\.$/);
    const admin = await kube.issueClientCert('masterclient', ['system:masters']);
    const carol = entra.userToken({ upn: 'carol@contoso.example' }, `${AKS_SERVER_APP_ID}/.default`);
    await call('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', admin, {
      metadata: { name: 'carol-view' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-proxier' },
      subjects: [{ kind: 'User', name: 'carol@contoso.example' }],
    });
    expect((await call('GET', '/api/v1/nodes', { token: carol.token })).status).to.equal(200);
  });

  it('with Azure RBAC off, guard is not asked: Entra users have only their Kubernetes RBAC', async () => {
    const oid = randomUUID();
    arm.grant(oid, ROLE_IDS.aksRbacClusterAdmin, CLUSTER);
    expect((await call('GET', '/api/v1/nodes', mi(oid))).status).to.equal(200);
    arm.updateCluster(CLUSTER, (c) => {
      c.aadProfile = { managed: true, enableAzureRBAC: false };
    });
    try {
      const r = await call('GET', '/api/v1/nodes', mi(oid));
      expect(r.status).to.equal(403);
      expect(r.json.message).to.equal(`nodes is forbidden: User "${oid}" cannot list resource "nodes" in API group "" at the cluster scope`);
    } finally {
      arm.updateCluster(CLUSTER, (c) => {
        c.aadProfile = { managed: true, enableAzureRBAC: true };
      });
    }
  });
});
