import { expect } from 'chai';
import type { CheckResult } from '@flexnode/sdk';
import { createStep, MemoryHost, runStepCycle, testConfig } from '@flexnode/sdk/testing';
import { parse } from 'yaml';
import { azureServices, FACTS, fakeReader } from '../fixtures.test.helpers.js';
import { testPki, type TestPki } from '../test-pki.test.helpers.js';
import { BOOTSTRAP_BINDINGS, NODES_ANNOTATION } from './bindings.js';
import { FakeCluster } from './fake-cluster.test.helpers.js';
import { createNodeBootstrapStep } from '../steps.js';
import { BINDING_RECORD, TOKEN_RECORD } from './step.js';
import { BOOTSTRAP_GROUP, newBootstrapToken, parseBootstrapToken, tokenSecret } from './token.js';

const CRB = '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings';
const SECRETS = '/api/v1/namespaces/kube-system/secrets';
const KUBECONFIG = '/var/lib/kubelet/bootstrap-kubeconfig';
const config = (name = 'edge-1') => testConfig({ kubernetes: { auth: 'bootstrap-token' }, node: { name } });
const decode = (s: Record<string, unknown>, k: string) => Buffer.from((s.data as Record<string, string>)[k]!, 'base64').toString('utf8');
const said = (r: CheckResult) => ('reason' in r ? r.reason : r.detail) ?? '';
/** The operator's credential removed after the join: any token request fails, and is counted. */
const noOperator = () => {
  const services = azureServices();
  const calls = { n: 0 };
  for (const [k, v] of services) {
    if (v && typeof v === 'object' && 'credential' in v) {
      services.set(k, {
        ...v,
        credential: {
          getToken: async () => {
            calls.n++;
            throw Object.assign(new Error('no Azure credential'), { name: 'FlexnodeError', code: 'AZURE_NO_CREDENTIAL' });
          },
        },
      });
    }
  }
  return { services, calls };
};
const failure = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('expected an error'),
    (e: Error & { code?: string; hint?: string }) => e,
  );

describe('bootstrap tokens', () => {
  it("are [a-z0-9]{6}.[a-z0-9]{16}, each new; the Secret authenticates only, with flexnode's group and an RFC 3339 expiry", async () => {
    const tokens = new Set((await Promise.all(Array.from({ length: 200 }, () => newBootstrapToken()))).map((t) => `${t.id}.${t.secret}`));
    expect(tokens.size).to.equal(200);
    for (const t of tokens) expect(parseBootstrapToken(t), t).to.not.equal(undefined);
    expect(parseBootstrapToken('ABCDEF.0123456789abcdef')).to.equal(undefined);
    const secret = tokenSecret({ id: 'abc123', secret: '0123456789abcdef' }, 'edge-1', new Date('2026-11-30T10:20:30.456Z'));
    expect(secret).to.deep.include({ type: 'bootstrap.kubernetes.io/token' });
    expect((secret.metadata as { name: string; namespace: string }).name).to.equal('bootstrap-token-abc123');
    expect(Object.keys(secret.data as object).sort()).to.deep.equal([
      'auth-extra-groups',
      'description',
      'expiration',
      'token-id',
      'token-secret',
      'usage-bootstrap-authentication',
    ]);
    expect(decode(secret, 'expiration')).to.equal('2026-11-30T10:20:30Z');
    expect(decode(secret, 'auth-extra-groups'))
      .to.equal(BOOTSTRAP_GROUP)
      .and.match(/^system:bootstrappers:/);
    expect(decode(secret, 'usage-bootstrap-authentication')).to.equal('true');
  });

  it("the group gets kubeadm's two grants (create a CSR, have it approved); system:nodes gets renewal", () => {
    expect(BOOTSTRAP_BINDINGS.map((b) => [b.clusterRole, b.group])).to.deep.equal([
      ['system:node-bootstrapper', BOOTSTRAP_GROUP],
      ['system:certificates.k8s.io:certificatesigningrequests:nodeclient', BOOTSTRAP_GROUP],
      ['system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', 'system:nodes'],
    ]);
  });
});

describe('kube.node-bootstrap', () => {
  let pki: TestPki;
  before(() => {
    pki = testPki();
  });
  after(() => pki.dispose());
  const step = (cluster: FakeCluster, now?: () => Date) =>
    createNodeBootstrapStep({ readCluster: fakeReader({ caPem: pki.caPem }), kubeClient: cluster.factory, ...(now ? { now } : {}) });

  it('full cycle: bindings, a token Secret, a 0600 bootstrap kubeconfig; a re-run changes nothing; uninstall removes them', async () => {
    const cluster = new FakeCluster();
    const host = new MemoryHost();
    const report = await runStepCycle(step(cluster), { config: config(), host, services: azureServices() });
    expect(report.initial['kube.node-bootstrap']!.status).to.equal('missing');
    expect(report.installed.files[KUBECONFIG]).to.include({ mode: 0o600 });
    expect(cluster.objects.size).to.equal(0); // uninstall: the token and (last node) the bindings are gone
    const posted = cluster.calls.filter((c) => c.startsWith('POST'));
    expect(posted).to.deep.equal([...BOOTSTRAP_BINDINGS.map(() => `POST ${CRB}`), `POST ${SECRETS}`]);
  });

  it('after install: the kubeconfig holds the token of the Secret; the journal holds its name and expiry, never the token', async () => {
    const cluster = new FakeCluster();
    const host = new MemoryHost();
    const now = new Date('2026-11-30T10:00:00Z');
    const inst = createStep(
      step(cluster, () => now),
      host,
      { config: config(), services: azureServices() },
    );
    await inst.install();
    const kc = parse(host.files.get(KUBECONFIG)!.content.toString()) as { users: { user: { token: string } }[]; clusters: { cluster: { server: string } }[] };
    const token = parseBootstrapToken(kc.users[0]!.user.token)!;
    expect(kc.clusters[0]!.cluster.server).to.equal(FACTS.server);
    const secret = cluster.get(SECRETS, `bootstrap-token-${token.id}`)!;
    expect(decode(secret, 'token-secret')).to.equal(token.secret);
    expect(decode(secret, 'expiration')).to.equal('2026-11-30T10:30:00Z');
    const journal = JSON.stringify(host.journal.get('kube.node-bootstrap'));
    expect(journal).to.include(`bootstrap-token-${token.id}`).and.include('2026-11-30T10:30:00.000Z').and.not.include(token.secret);
    for (const b of BOOTSTRAP_BINDINGS) expect(cluster.get(CRB, b.name)!.metadata.annotations).to.deep.equal({ [NODES_ANNOTATION]: 'edge-1' });
    expect(said(await inst.check())).to.match(/bootstrap token [a-z0-9]{6} valid until 2026-11-30T10:30:00.000Z/);
  });

  it("checks from the kubelet's certificate without the operator; an expired token without a certificate is renewed, the old one revoked", async () => {
    const cluster = new FakeCluster();
    const host = new MemoryHost();
    let now = new Date('2026-11-30T10:00:00Z');
    const services = azureServices();
    const inst = createStep(
      step(cluster, () => now),
      host,
      { config: config(), services },
    );
    await inst.install();
    const first = cluster.names(SECRETS);
    now = new Date('2026-11-30T11:00:00Z'); // the kubelet never bootstrapped: the token expired
    expect((await inst.check()).status).to.equal('missing');
    await inst.install();
    expect(cluster.names(SECRETS)).to.have.length(1).and.not.include(first[0]);
    // The kubelet bootstraps: its certificate is what counts, for the node and signed by the cluster CA.
    host.seedFile('/var/lib/kubelet/pki/kubelet-client-current.pem', pki.pair('/O=system:nodes/CN=system:node:edge-1'), 0o600);
    now = new Date('2026-11-30T12:00:00Z');
    const operator = noOperator();
    const offline = createStep(
      step(cluster, () => now),
      host,
      { config: config(), services: operator.services },
    );
    expect(await offline.check()).to.deep.include({ status: 'ok' });
    expect(said(await offline.check())).to.match(/client certificate for system:node:edge-1 until/);
    // Another node's certificate, or a certificate of another CA, is no credential of this node.
    host.seedFile('/var/lib/kubelet/pki/kubelet-client-current.pem', pki.pair('/O=system:nodes/CN=system:node:edge-2'), 0o600);
    expect(said(await offline.check())).to.match(/it is for "system:node:edge-2"/);
    const other = testPki();
    host.seedFile('/var/lib/kubelet/pki/kubelet-client-current.pem', other.pair('/O=system:nodes/CN=system:node:edge-1'), 0o600);
    other.dispose();
    expect(said(await offline.check())).to.match(/not signed by the cluster CA/);
    expect(operator.calls.n, 'operator tokens asked for by the checks').to.equal(0);
  });

  it("two nodes share the bindings: the first out leaves them to the other, the last deletes them; a binding not flexnode's is used, never touched", async () => {
    const cluster = new FakeCluster();
    cluster.seed(CRB, {
      metadata: { name: 'kubeadm:node-autoapprove-certificate-rotation' },
      roleRef: { kind: 'ClusterRole', name: 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient' },
      subjects: [{ kind: 'Group', name: 'system:nodes' }],
    });
    const a = new MemoryHost();
    const b = new MemoryHost();
    const ia = createStep(step(cluster), a, { config: config('edge-1'), services: azureServices() });
    const ib = createStep(step(cluster), b, { config: config('edge-2'), services: azureServices() });
    await ia.install();
    await ib.install();
    expect(cluster.names(CRB).sort()).to.deep.equal([
      'flexnode:kubelet-bootstrap',
      'flexnode:node-autoapprove-bootstrap',
      'kubeadm:node-autoapprove-certificate-rotation',
    ]);
    expect(cluster.get(CRB, 'flexnode:kubelet-bootstrap')!.metadata.annotations).to.deep.equal({ [NODES_ANNOTATION]: 'edge-1,edge-2' });
    expect((a.journal.get('kube.node-bootstrap') ?? []).filter((c) => c.kind === 'custom' && c.type === BINDING_RECORD)).to.have.length(2);
    await ia.uninstall();
    expect(cluster.get(CRB, 'flexnode:node-autoapprove-bootstrap')!.metadata.annotations).to.deep.equal({ [NODES_ANNOTATION]: 'edge-2' });
    expect(cluster.names(SECRETS)).to.have.length(1);
    await ib.uninstall();
    expect(cluster.names(CRB)).to.deep.equal(['kubeadm:node-autoapprove-certificate-rotation']);
    expect(cluster.names(SECRETS)).to.deep.equal([]);
  });

  it("an operator without the rights gets the API server's reason and the role to grant; the bindings made are journaled and removed later", async () => {
    const cluster = new FakeCluster();
    cluster.deny = {
      match: /^POST .*\/secrets$/,
      status: 403,
      message:
        'secrets is forbidden: User "op" cannot create resource "secrets" in API group "" in the namespace "kube-system": Access denied for action: Microsoft.ContainerService/managedClusters/secrets/write',
    };
    const host = new MemoryHost();
    const inst = createStep(step(cluster), host, { config: config(), services: azureServices() });
    const e = await failure(inst.install());
    expect(e.code).to.equal('KUBE_OPERATOR_FORBIDDEN');
    expect(e.message)
      .to.include('may not create the bootstrap token Secret')
      .and.include('Access denied for action: Microsoft.ContainerService/managedClusters/secrets/write');
    expect(e.hint).to.include('"Azure Kubernetes Service RBAC Admin"').and.include(FACTS.resourceId);
    expect(host.files.has(KUBECONFIG)).to.equal(false);
    expect((host.journal.get('kube.node-bootstrap') ?? []).filter((c) => c.kind === 'custom' && c.type === TOKEN_RECORD)).to.have.length(1); // write-ahead: maybe created
    cluster.deny = undefined;
    await inst.uninstall();
    expect(cluster.objects.size).to.equal(0);
    expect(host.journal.get('kube.node-bootstrap') ?? []).to.deep.equal([]);
  });

  it('is refused on a cluster without Entra ID (flexnode never uses the admin credential), and without an operator credential, naming what needs it', async () => {
    const host = new MemoryHost();
    const noAad = createNodeBootstrapStep({ readCluster: fakeReader({ aad: false, azureRbac: false }), kubeClient: new FakeCluster().factory });
    const e = await failure(createStep(noAad, host, { config: config(), services: azureServices() }).install());
    expect(e.code).to.equal('KUBE_OPERATOR_NO_ENTRA');
    expect(e.hint).to.include("never uses the cluster's admin credential");
    const f = await failure(createStep(step(new FakeCluster()), new MemoryHost(), { config: config(), services: noOperator().services }).install());
    expect(f.code).to.equal('AZURE_OPERATOR_CREDENTIAL_REQUIRED');
    expect(f.message).to.include("kube.node-bootstrap (a bootstrap token for node edge-1) needs the operator's Azure credential");
  });

  it('does not apply in arc-msi mode', () => {
    expect(step(new FakeCluster()).when!(testConfig())).to.match(/kubernetes.auth is arc-msi/);
    expect(step(new FakeCluster()).when!(config())).to.equal(true);
  });
});
