// TLS bootstrapping against the fake: bootstrap tokens (Secrets in kube-system) authenticate as
// system:bootstrap:<id>; with kubeadm's bindings their CSRs for system:node:<name> are auto-approved (SAR on
// certificatesigningrequests/nodeclient) and signed by the cluster CA; without them they stay pending; the bootstrap
// identity can do nothing else. Service-account tokens and TokenReview; the RBAC escalation check.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { FakeKubeApi } from '../fake-kube-api.js';
import { certificateRequest, newEcKey } from '../standins/kubelet/x509.js';
import type { IssuedCert } from './cluster-ca.js';
import { kubeClient, until } from './client.test.helpers.js';

const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const RBAC = '/apis/rbac.authorization.k8s.io/v1';

function csrBody(cn: string, orgs: string[], usages = ['digital signature', 'client auth']) {
  return {
    metadata: { generateName: 'csr-' },
    spec: {
      request: Buffer.from(certificateRequest(newEcKey().privateKey, cn, orgs)).toString('base64'),
      signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
      usages,
    },
  };
}

describe('fake Kubernetes API: bootstrap tokens, CSRs and service-account tokens', function () {
  let kube: FakeKubeApi;
  let call: ReturnType<typeof kubeClient>;
  let admin: IssuedCert;

  before(async () => {
    kube = await FakeKubeApi.start({ signingSeconds: 3600 });
    call = kubeClient(kube);
    admin = await kube.issueClientCert('masterclient', ['system:masters']);
  });
  after(() => kube.stop());

  const bind = (name: string, role: string, group: string) =>
    call('POST', `${RBAC}/clusterrolebindings`, admin, {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }],
    });

  it('a bootstrap token authenticates as system:bootstrap:<id> while its Secret is valid; expired ones are refused and cleaned up', async () => {
    const { token } = kube.createBootstrapToken({ id: 'abcdef', groups: ['system:bootstrappers:edge'] });
    const who = await call('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { token }, {});
    expect(who.json.status.userInfo).to.deep.equal({
      username: 'system:bootstrap:abcdef',
      groups: ['system:bootstrappers', 'system:bootstrappers:edge', 'system:authenticated'],
    });
    expect((await call('GET', '/version', { token: 'abcdef.0000000000000000' })).status, 'wrong secret').to.equal(401);
    const expired = kube.createBootstrapToken({ expires: new Date(Date.now() - 1000) });
    expect((await call('GET', '/version', { token: expired.token })).status).to.equal(401);
    await until(() => !kube.object('secrets', 'kube-system', expired.secretName), 3000, 'the token cleaner');
    const badGroup = kube.createBootstrapToken({ groups: ['system:masters'] });
    expect((await call('GET', '/version', { token: badGroup.token })).status, 'extra groups must be system:bootstrappers:*').to.equal(401);
    const noAuth = kube.createBootstrapToken({ usages: ['signing'] });
    expect((await call('GET', '/version', { token: noAuth.token })).status).to.equal(401);
  });

  it('a bootstrap identity can create a CSR but cannot list nodes; its CSR stays pending without the nodeclient binding', async () => {
    const { token } = kube.createBootstrapToken({ groups: ['system:bootstrappers:pending'] });
    expect((await call('POST', CSRS, { token }, csrBody('system:node:edge-p', ['system:nodes']))).status, 'no binding yet').to.equal(403);
    await bind('pending-bootstrap', 'system:node-bootstrapper', 'system:bootstrappers:pending');
    const created = await call('POST', CSRS, { token }, csrBody('system:node:edge-p', ['system:nodes']));
    expect(created.status).to.equal(201);
    expect(created.json.spec).to.include({ username: `system:bootstrap:${token.split('.')[0]}` });
    const nodes = await call('GET', '/api/v1/nodes', { token });
    expect(nodes.status).to.equal(403);
    expect(nodes.json.message).to.equal(
      `nodes is forbidden: User "system:bootstrap:${token.split('.')[0]}" cannot list resource "nodes" in API group "" at the cluster scope`,
    );
    expect((await call('GET', '/api/v1/namespaces/kube-system/secrets', { token })).status).to.equal(403);
    await new Promise((r) => setTimeout(r, 200));
    expect(kube.object('certificatesigningrequests.certificates.k8s.io', '', created.json.metadata.name)?.status).to.deep.equal({});
  });

  it("with kubeadm's bindings the node CSR is auto-approved and signed by the cluster CA for system:node:<name> in system:nodes", async () => {
    const { token } = kube.createBootstrapToken({ groups: ['system:bootstrappers:kubeadm:default-node-token'] });
    await bind('kubeadm:kubelet-bootstrap', 'system:node-bootstrapper', 'system:bootstrappers:kubeadm:default-node-token');
    await bind(
      'kubeadm:node-autoapprove-bootstrap',
      'system:certificates.k8s.io:certificatesigningrequests:nodeclient',
      'system:bootstrappers:kubeadm:default-node-token',
    );
    const created = await call('POST', CSRS, { token }, csrBody('system:node:edge-1', ['system:nodes']));
    const name = created.json.metadata.name;
    let cert = '';
    await until(
      async () => {
        cert = (await call('GET', `${CSRS}/${name}`, { token })).json.status?.certificate ?? '';
        return !!cert;
      },
      5000,
      'the signed certificate',
    );
    const got = (await call('GET', `${CSRS}/${name}`, { token })).json.status;
    expect(got.conditions[0]).to.include({
      type: 'Approved',
      status: 'True',
      reason: 'AutoApproved',
      message: 'Auto approving kubelet client certificate after SubjectAccessReview.',
    });
    const x = new X509Certificate(Buffer.from(cert, 'base64'));
    expect(x.subject.split('\n').sort()).to.deep.equal(['CN=system:node:edge-1', 'O=system:nodes']);
    expect(x.checkIssued(new X509Certificate(kube.caPem))).to.equal(true);
    expect(Date.parse(x.validTo) - Date.now()).to.be.within(3500_000, 3601_000);
    // a CSR asking for another organization is recognized as nothing: it stays pending
    const bad = await call('POST', CSRS, { token }, csrBody('system:node:edge-1', ['system:masters']));
    await new Promise((r) => setTimeout(r, 200));
    expect(kube.object('certificatesigningrequests.certificates.k8s.io', '', bad.json.metadata.name)?.status).to.deep.equal({});
    // approving it by hand: the signer refuses it
    const approve = await call('PUT', `${CSRS}/${bad.json.metadata.name}/approval`, admin, {
      ...kube.object('certificatesigningrequests.certificates.k8s.io', '', bad.json.metadata.name),
      status: { conditions: [{ type: 'Approved', status: 'True', reason: 'ByHand', message: '' }] },
    });
    expect(approve.status).to.equal(200);
    await until(
      () => ((kube.object('certificatesigningrequests.certificates.k8s.io', '', bad.json.metadata.name)?.status as any)?.conditions ?? []).length === 2,
      3000,
    );
    expect((kube.object('certificatesigningrequests.certificates.k8s.io', '', bad.json.metadata.name)!.status as any).conditions[1]).to.include({
      type: 'Failed',
      reason: 'SignerValidationFailure',
      message: 'subject organization is not system:nodes',
    });
  });

  it('a node certificate renews itself through selfnodeclient only when that binding exists', async () => {
    const node = await kube.issueClientCert('system:node:edge-2', ['system:nodes']);
    const first = await call('POST', CSRS, node, csrBody('system:node:edge-2', ['system:nodes']));
    await new Promise((r) => setTimeout(r, 200));
    expect(kube.object('certificatesigningrequests.certificates.k8s.io', '', first.json.metadata.name)?.status, 'no selfnodeclient binding').to.deep.equal({});
    await bind('kubeadm:node-autoapprove-certificate-rotation', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', 'system:nodes');
    const second = await call('POST', CSRS, node, csrBody('system:node:edge-2', ['system:nodes']));
    await until(() => !!(kube.object('certificatesigningrequests.certificates.k8s.io', '', second.json.metadata.name)?.status as any)?.certificate, 5000);
    expect((kube.object('certificatesigningrequests.certificates.k8s.io', '', second.json.metadata.name)!.status as any).conditions[0].message).to.equal(
      'Auto approving self kubelet client certificate after SubjectAccessReview.',
    );
  });

  it('approving a CSR needs `approve` on its signer (CertificateApproval)', async () => {
    const bob = await kube.issueClientCert('bob', []);
    await call('POST', `${RBAC}/clusterroles`, admin, {
      metadata: { name: 'csr-updater' },
      rules: [
        {
          apiGroups: ['certificates.k8s.io'],
          resources: ['certificatesigningrequests', 'certificatesigningrequests/approval'],
          verbs: ['get', 'update', 'create'],
        },
      ],
    });
    await call('POST', `${RBAC}/clusterrolebindings`, admin, {
      metadata: { name: 'bob-csr' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'csr-updater' },
      subjects: [{ kind: 'User', name: 'bob' }],
    });
    const created = await call('POST', CSRS, bob, csrBody('system:node:edge-3', ['system:nodes']));
    const r = await call('PUT', `${CSRS}/${created.json.metadata.name}/approval`, bob, {
      ...created.json,
      status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Bob' }] },
    });
    expect(r.status).to.equal(403);
    expect(r.json.message).to.equal(
      `certificatesigningrequests.certificates.k8s.io "${created.json.metadata.name}" is forbidden: user not permitted to approve requests with signerName "kubernetes.io/kube-apiserver-client-kubelet"`,
    );
  });

  it('TokenRequest tokens authenticate as the service account while the bound pod lives; TokenReview says so', async () => {
    kube.seedPod({ name: 'app', nodeName: 'edge-1' });
    const token = kube.serviceAccountToken('default', 'default', { pod: 'app' });
    const review = await call('POST', '/apis/authentication.k8s.io/v1/tokenreviews', admin, { spec: { token } });
    expect(review.json.status).to.deep.include({ authenticated: true });
    expect(review.json.status.user).to.include({ username: 'system:serviceaccount:default:default' });
    expect(review.json.status.user.extra['authentication.kubernetes.io/pod-name']).to.deep.equal(['app']);
    expect((await call('GET', '/version', { token })).status).to.equal(200);
    kube.deleteObject('pods', 'default', 'app', { force: true });
    expect((await call('GET', '/version', { token })).status, 'the bound pod is gone').to.equal(401);
    const again = await call('POST', '/apis/authentication.k8s.io/v1/tokenreviews', admin, { spec: { token } });
    expect(again.json.status.authenticated).to.equal(undefined);
    expect(again.json.status.error).to.match(/pod default\/app has been deleted/);
    const wrongAud = kube.serviceAccountToken('default', 'default', { audiences: ['vault'] });
    expect((await call('GET', '/version', { token: wrongAud })).status).to.equal(401);
    expect(
      (await call('POST', '/apis/authentication.k8s.io/v1/tokenreviews', admin, { spec: { token: wrongAud, audiences: ['vault'] } })).json.status.authenticated,
    ).to.equal(true);
  });

  it('RBAC: a binding granting more than its creator holds is refused unless the creator may bind that role', async () => {
    const mallory = await kube.issueClientCert('mallory', []);
    await call('POST', `${RBAC}/clusterroles`, admin, {
      metadata: { name: 'binding-writer' },
      rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterrolebindings'], verbs: ['create'] }],
    });
    await call('POST', `${RBAC}/clusterrolebindings`, admin, {
      metadata: { name: 'mallory-binder' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'binding-writer' },
      subjects: [{ kind: 'User', name: 'mallory' }],
    });
    const grab = await call('POST', `${RBAC}/clusterrolebindings`, mallory, {
      metadata: { name: 'mallory-admin' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'User', name: 'mallory' }],
    });
    expect(grab.status).to.equal(403);
    expect(grab.json.message).to.match(
      /^clusterrolebindings.rbac.authorization.k8s.io "mallory-admin" is forbidden: user "mallory" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:/,
    );
    const sar = await call('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', admin, {
      spec: { user: 'mallory', groups: [], resourceAttributes: { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' } },
    });
    expect(sar.json.status.allowed).to.equal(true);
  });
});
