// The fake Kubernetes API's registry as the real API server behaves: Status errors, create/get/list/patch/update/
// delete semantics, status subresources, Lease concurrency (409 on a stale update), watch, node IPAM, namespaces and
// their default objects, graceful pod deletion, and the test controls (unreachable, audit).
import { expect } from 'chai';
import https from 'node:https';
import { FakeKubeApi } from '../fake-kube-api.js';
import type { IssuedCert } from './cluster-ca.js';
import { kubeClient, until, type Answer } from './client.test.helpers.js';

const LEASES = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';

describe('fake Kubernetes API: the registry', function () {
  let kube: FakeKubeApi;
  let admin: IssuedCert;
  let call: ReturnType<typeof kubeClient>;
  const as = () => admin;

  before(async () => {
    kube = await FakeKubeApi.start({ version: '1.36.2', podCidr: { clusterCidr: '10.244.0.0/16', nodeMaskSize: 24 } });
    admin = await kube.issueClientCert('masterclient', ['system:masters']);
    call = kubeClient(kube);
  });
  after(() => kube.stop());

  it('serves /version and health without credentials; anything else without credentials or with a bad token is a 401 Status', async () => {
    const v = await call('GET', '/version', null);
    expect(v.json).to.include({ gitVersion: 'v1.36.2', major: '1', minor: '36' });
    expect((await call('GET', '/readyz', null)).text).to.equal('ok');
    const anon = await call('GET', '/api/v1/nodes', null);
    expect(anon.status).to.equal(401);
    expect(anon.json).to.include({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
    expect((await call('GET', '/api/v1/nodes', { token: 'garbage' })).status).to.equal(401);
    expect((await call('GET', '/version', { token: 'garbage' })).status, 'a bad credential fails even on public paths').to.equal(401);
  });

  it('creates with 201, refuses duplicates with 409 AlreadyExists and bad names with 422 Invalid, answers 404 NotFound', async () => {
    expect((await call('POST', '/api/v1/namespaces/default/configmaps', as(), { metadata: { name: 'c1' }, data: { a: 'b' } })).status).to.equal(201);
    const dup = await call('POST', '/api/v1/namespaces/default/configmaps', as(), { metadata: { name: 'c1' } });
    expect(dup.json).to.deep.include({ reason: 'AlreadyExists', code: 409, message: 'configmaps "c1" already exists' });
    const bad = await call('POST', '/api/v1/namespaces/default/configmaps', as(), { metadata: { name: 'Bad_Name' } });
    expect(bad.status).to.equal(422);
    expect(bad.json.message).to.match(/^ConfigMap "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
    expect(bad.json.details.causes[0]).to.include({ reason: 'FieldValueInvalid', field: 'metadata.name' });
    const gen = await call('POST', '/api/v1/namespaces/default/configmaps', as(), { metadata: { generateName: 'gen-' } });
    expect(gen.json.metadata.name).to.match(/^gen-[a-z0-9]{5}$/);
    const nf = await call('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/nope', as());
    expect(nf.json).to.deep.include({ reason: 'NotFound', code: 404, message: 'leases.coordination.k8s.io "nope" not found' });
    const nons = await call('POST', '/api/v1/namespaces/missing/configmaps', as(), { metadata: { name: 'x' } });
    expect(nons.json).to.include({ code: 404, message: 'namespaces "missing" not found' });
    expect((await call('GET', '/api/v1/widgets', as())).status).to.equal(404);
  });

  it('every namespace gets a default ServiceAccount and the kube-root-ca.crt ConfigMap', async () => {
    expect((await call('POST', '/api/v1/namespaces', as(), { metadata: { name: 'team-a' } })).status).to.equal(201);
    await until(() => !!kube.object('serviceaccounts', 'team-a', 'default'));
    expect(kube.object('configmaps', 'team-a', 'kube-root-ca.crt')?.data).to.deep.equal({ 'ca.crt': kube.caPem });
  });

  it('Leases: optimistic concurrency, a stale update is 409 Conflict, an update without resourceVersion is 422', async () => {
    const created = await call('POST', LEASES, as(), { metadata: { name: 'node-a' }, spec: { holderIdentity: 'node-a', leaseDurationSeconds: 40 } });
    expect(created.status).to.equal(201);
    const v1 = created.json;
    const ok = await call('PUT', `${LEASES}/node-a`, as(), { ...v1, spec: { ...v1.spec, renewTime: '2026-07-01T00:00:00.000000Z' } });
    expect(ok.status).to.equal(200);
    expect(Number(ok.json.metadata.resourceVersion)).to.be.greaterThan(Number(v1.metadata.resourceVersion));
    const stale = await call('PUT', `${LEASES}/node-a`, as(), { ...v1, spec: { ...v1.spec, holderIdentity: 'someone-else' } });
    expect(stale.status).to.equal(409);
    expect(stale.json).to.include({
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on leases.coordination.k8s.io "node-a": the object has been modified; please apply your changes to the latest version and try again',
    });
    expect(kube.lease('node-a')!.spec!.holderIdentity).to.equal('node-a');
    const { resourceVersion: _rv, ...noRv } = ok.json.metadata;
    const unconditional = await call('PUT', `${LEASES}/node-a`, as(), { ...ok.json, metadata: noRv });
    expect(unconditional.status).to.equal(422);
    expect(unconditional.json.message).to.include('metadata.resourceVersion: Invalid value: 0: must be specified for an update');
    const badDuration = await call('POST', LEASES, as(), { metadata: { name: 'node-b' }, spec: { leaseDurationSeconds: 0 } });
    expect(badDuration.json.message).to.equal(
      'Lease.coordination.k8s.io "node-b" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
    );
  });

  it('Nodes: status only through /status, merge/strategic/JSON patches, podCIDR from the node-ipam allocator, immutable once set', async () => {
    const n = await call('POST', '/api/v1/nodes', as(), {
      metadata: { name: 'n1', labels: { a: '1' } },
      status: {
        conditions: [
          { type: 'Ready', status: 'False' },
          { type: 'DiskPressure', status: 'False' },
        ],
      },
    });
    expect(n.status).to.equal(201);
    await call('POST', '/api/v1/nodes', as(), { metadata: { name: 'n2' } });
    await until(() => !!kube.node('n1')?.spec?.podCIDR && !!kube.node('n2')?.spec?.podCIDR);
    expect([kube.node('n1')!.spec!.podCIDR, kube.node('n2')!.spec!.podCIDR]).to.deep.equal(['10.244.0.0/24', '10.244.1.0/24']);
    // the main resource ignores status; /status ignores spec
    await call(
      'PATCH',
      '/api/v1/nodes/n1',
      as(),
      { spec: { unschedulable: true }, status: { conditions: [] }, metadata: { labels: { b: '2', a: null } } },
      'application/merge-patch+json',
    );
    await call(
      'PATCH',
      '/api/v1/nodes/n1/status',
      as(),
      { spec: { unschedulable: false }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
      'application/strategic-merge-patch+json',
    );
    await call('PATCH', '/api/v1/nodes/n1', as(), [{ op: 'add', path: '/metadata/annotations', value: { x: 'y' } }], 'application/json-patch+json');
    const node = kube.node('n1')!;
    expect(node.spec).to.include({ unschedulable: true, podCIDR: '10.244.0.0/24' });
    expect(node.metadata.labels).to.deep.equal({ b: '2' });
    expect(node.metadata.annotations).to.deep.equal({ x: 'y' });
    expect(kube.readyCondition('n1')?.status).to.equal('True');
    expect((node.status!.conditions as unknown[]).length, 'strategic merge by type keeps DiskPressure').to.equal(2);
    const move = await call('PATCH', '/api/v1/nodes/n1', as(), { spec: { podCIDR: '10.244.9.0/24' } }, 'application/merge-patch+json');
    expect(move.status).to.equal(422);
    expect(move.json.message).to.equal('Node "n1" is invalid: spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid');
    expect((await call('PATCH', '/api/v1/nodes/n1', as(), {}, 'application/apply-patch+yaml')).status).to.equal(415);
    const del = await call('DELETE', '/api/v1/nodes/n2', as());
    expect(del.json).to.deep.include({ kind: 'Status', status: 'Success' });
    expect(kube.node('n2')).to.equal(undefined);
  });

  it('Pods: ServiceAccount admission, field and label selectors, graceful deletion of bound pods, immediate for unbound ones', async () => {
    const created = await call('POST', '/api/v1/namespaces/default/pods', as(), {
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: { nodeName: 'n1', containers: [{ name: 'main', image: 'nginx:1' }] },
    });
    expect(created.status).to.equal(201);
    const spec = created.json.spec;
    expect(spec.serviceAccountName).to.equal('default');
    expect(spec.volumes[0].name).to.match(/^kube-api-access-/);
    expect(spec.volumes[0].projected.sources[0]).to.deep.equal({ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } });
    expect(spec.containers[0].volumeMounts[0]).to.include({ mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true });
    expect(created.json.status).to.deep.equal({ phase: 'Pending', qosClass: 'BestEffort' });
    await call('POST', '/api/v1/namespaces/default/pods', as(), { metadata: { name: 'floating' }, spec: { containers: [{ name: 'main', image: 'nginx:1' }] } });
    const names = async (q: string) =>
      ((await call('GET', `/api/v1/pods?${q}`, as())).json.items as { metadata: { name: string } }[]).map((p) => p.metadata.name);
    expect(await names('fieldSelector=spec.nodeName%3Dn1')).to.deep.equal(['web']);
    expect(await names('labelSelector=app%20in%20(web,api)')).to.deep.equal(['web']);
    expect(await names('labelSelector=!app')).to.deep.equal(['floating']);
    expect((await call('GET', '/api/v1/pods?fieldSelector=spec.bogus%3Dx', as())).json.message).to.equal('field label not supported: spec.bogus');
    const invalid = await call('POST', '/api/v1/namespaces/default/pods', as(), { metadata: { name: 'empty' }, spec: {} });
    expect(invalid.json.message).to.equal('Pod "empty" is invalid: spec.containers: Required value');
    // a bound pod is deleted gracefully: it stays with a deletionTimestamp until its kubelet removes it
    const del = await call('DELETE', '/api/v1/namespaces/default/pods/web', as());
    expect(del.status).to.equal(200);
    expect(del.json.metadata.deletionTimestamp).to.be.a('string');
    expect(del.json.metadata.deletionGracePeriodSeconds).to.equal(30);
    expect(kube.pod('default', 'web')).to.not.equal(undefined);
    const wrongUid = await call('DELETE', '/api/v1/namespaces/default/pods/web', as(), { gracePeriodSeconds: 0, preconditions: { uid: 'other' } });
    expect(wrongUid.json.message).to.equal(
      `Operation cannot be fulfilled on pods "web": Precondition failed: UID in precondition: other, UID in object meta: ${created.json.metadata.uid}`,
    );
    expect(
      (await call('DELETE', '/api/v1/namespaces/default/pods/web', as(), { gracePeriodSeconds: 0, preconditions: { uid: created.json.metadata.uid } })).status,
    ).to.equal(200);
    expect(kube.pod('default', 'web')).to.equal(undefined);
    await call('DELETE', '/api/v1/namespaces/default/pods/floating', as());
    expect(kube.pod('default', 'floating'), 'a pod that never ran goes at once').to.equal(undefined);
  });

  it('watches: current objects as ADDED, then MODIFIED and DELETED, from a resourceVersion; selectors apply', async () => {
    const events: { type: string; name: string }[] = [];
    const url = new URL(`${kube.url}/api/v1/namespaces/default/configmaps?watch=1&labelSelector=w%3D1`);
    const req = https.get(url, { ca: kube.caPem, cert: admin.certPem, key: admin.keyPem, agent: false }, (res) => {
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (d: string) => {
        buf += d;
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const e = JSON.parse(buf.slice(0, i));
          buf = buf.slice(i + 1);
          events.push({ type: e.type, name: e.object.metadata.name });
        }
      });
    });
    try {
      await call('POST', '/api/v1/namespaces/default/configmaps', as(), { metadata: { name: 'w1', labels: { w: '1' } } });
      await call('POST', '/api/v1/namespaces/default/configmaps', as(), { metadata: { name: 'other' } });
      await call('PATCH', '/api/v1/namespaces/default/configmaps/w1', as(), { data: { k: 'v' } }, 'application/merge-patch+json');
      await call('PATCH', '/api/v1/namespaces/default/configmaps/w1', as(), { metadata: { labels: { w: '2' } } }, 'application/merge-patch+json');
      await until(() => events.length >= 3, 3000, 'watch events');
      expect(events).to.deep.equal([
        { type: 'ADDED', name: 'w1' },
        { type: 'MODIFIED', name: 'w1' },
        { type: 'DELETED', name: 'w1' },
      ]);
    } finally {
      req.destroy();
    }
    // from a resourceVersion: what happened after it
    const list = await call('GET', '/api/v1/namespaces/default/configmaps', as());
    const rv = list.json.metadata.resourceVersion;
    await call('DELETE', '/api/v1/namespaces/default/configmaps/other', as());
    const replay = await new Promise<string>((resolve) => {
      https.get(
        `${kube.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}&timeoutSeconds=1`,
        { ca: kube.caPem, cert: admin.certPem, key: admin.keyPem, agent: false },
        (res) => {
          let d = '';
          res.on('data', (c) => {
            d += c;
          });
          res.on('end', () => resolve(d));
        },
      );
    });
    expect(
      replay
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).type + ' ' + JSON.parse(l).object.metadata.name),
    ).to.deep.equal(['DELETED other']);
  });

  it('discovery lists the served groups and resources', async () => {
    const groups = (await call('GET', '/apis', as())).json.groups.map((g: { name: string }) => g.name);
    expect(groups).to.include.members(['coordination.k8s.io', 'policy', 'certificates.k8s.io', 'rbac.authorization.k8s.io', 'storage.k8s.io']);
    const core = (await call('GET', '/api/v1', as())).json.resources.map((r: { name: string }) => r.name);
    expect(core).to.include.members(['pods', 'pods/eviction', 'serviceaccounts/token', 'nodes/status']);
  });

  it('stops answering and resumes (refused or hanging), and audits every request with its user and answer', async () => {
    await kube.setReachable(false);
    const refused = await call('GET', '/version', null).then(
      () => 'answered',
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(refused).to.equal('ECONNREFUSED');
    await kube.setReachable(true);
    expect((await call('GET', '/version', null)).status).to.equal(200);
    await kube.setReachable('hang');
    const hung = await Promise.race([
      call('GET', '/version', null).then(
        (a: Answer) => a.status,
        () => 'error',
      ),
      new Promise((r) => setTimeout(() => r('timeout'), 500)),
    ]);
    expect(hung).to.equal('timeout');
    await kube.setReachable(true);
    expect((await call('GET', '/version', null)).status).to.equal(200);
    const last = kube.audit.filter((e) => e.user === 'masterclient').at(-1)!;
    expect(last).to.include({ via: 'x509', code: 200 });
    expect(kube.audit.some((e) => e.code === 401 && e.path === '/api/v1/nodes')).to.equal(true);
  });
});
