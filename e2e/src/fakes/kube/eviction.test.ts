// The Eviction API with PodDisruptionBudgets as the real API server and disruption controller handle them.
import { expect } from 'chai';
import { FakeKubeApi } from '../fake-kube-api.js';
import type { IssuedCert } from './cluster-ca.js';
import { kubeClient } from './client.test.helpers.js';

describe('fake Kubernetes API: eviction and PodDisruptionBudgets', function () {
  let kube: FakeKubeApi;
  let call: ReturnType<typeof kubeClient>;
  let admin: IssuedCert;

  before(async () => {
    kube = await FakeKubeApi.start();
    call = kubeClient(kube);
    admin = await kube.issueClientCert('masterclient', ['system:masters']);
    await call('POST', '/api/v1/namespaces', admin, { metadata: { name: 'shop' } });
  });
  after(() => kube.stop());

  const evict = (ns: string, name: string, body: Record<string, unknown> = {}) =>
    call('POST', `/api/v1/namespaces/${ns}/pods/${name}/eviction`, admin, {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name, namespace: ns },
      ...body,
    });
  const pdbStatus = (ns: string, name: string) => kube.object('poddisruptionbudgets.policy', ns, name)!.status as Record<string, any>;

  it('429 TooManyRequests when the PDB allows no disruption; 201 and a graceful delete otherwise', async () => {
    kube.seedPod({ name: 'db-0', namespace: 'shop', nodeName: 'edge-1', labels: { app: 'db' } });
    kube.seedPdb({ name: 'db', namespace: 'shop', matchLabels: { app: 'db' }, minAvailable: 1 });
    expect(pdbStatus('shop', 'db')).to.include({ expectedPods: 1, currentHealthy: 1, desiredHealthy: 1, disruptionsAllowed: 0 });
    const blocked = await evict('shop', 'db-0');
    expect(blocked.status).to.equal(429);
    expect(blocked.json).to.deep.include({ reason: 'TooManyRequests', message: "Cannot evict pod as it would violate the pod's disruption budget." });
    expect(blocked.json.details.causes).to.deep.equal([
      { type: 'DisruptionBudget', message: 'The disruption budget db needs 1 healthy pods and has 1 currently' },
    ]);
    expect(kube.pod('shop', 'db-0')!.metadata.deletionTimestamp).to.equal(undefined);

    kube.seedPod({ name: 'db-1', namespace: 'shop', nodeName: 'edge-1', labels: { app: 'db' } });
    expect(pdbStatus('shop', 'db').disruptionsAllowed).to.equal(1);
    const ok = await evict('shop', 'db-0');
    expect(ok.status).to.equal(201);
    expect(ok.json).to.deep.include({ kind: 'Status', status: 'Success', code: 201 });
    const gone = kube.pod('shop', 'db-0')!;
    expect(gone.metadata.deletionTimestamp, 'graceful: its kubelet finishes the delete').to.be.a('string');
    expect((gone.status!.conditions as { type: string; reason?: string }[]).find((c) => c.type === 'DisruptionTarget')).to.include({
      reason: 'EvictionByEvictionAPI',
    });
    expect(pdbStatus('shop', 'db')).to.include({ disruptionsAllowed: 0 });
    expect((await evict('shop', 'db-1')).status, 'the budget is spent').to.equal(429);
    kube.deleteObject('pods', 'shop', 'db-0', { force: true });
  });

  it('a Pending or already terminating pod is deleted without looking at the PDB; the body must name the pod', async () => {
    kube.seedPod({ name: 'db-2', namespace: 'shop', nodeName: 'edge-1', labels: { app: 'db' }, phase: 'Pending' });
    expect((await evict('shop', 'db-2')).status).to.equal(201);
    expect(kube.pod('shop', 'db-2')).to.not.equal(undefined);
    expect(kube.pod('shop', 'db-2')!.metadata.deletionTimestamp).to.be.a('string');
    const mismatch = await call('POST', '/api/v1/namespaces/shop/pods/db-1/eviction', admin, {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'other' },
    });
    expect(mismatch.json).to.include({ code: 400, message: 'name in URL does not match name in Eviction object' });
    expect((await evict('shop', 'nope')).status).to.equal(404);
  });

  it('more than one PDB for a pod is a 500, as the eviction subresource does not support it', async () => {
    kube.seedPod({ name: 'web-0', namespace: 'shop', nodeName: 'edge-1', labels: { app: 'web', tier: 'front' } });
    kube.seedPdb({ name: 'web-a', namespace: 'shop', matchLabels: { app: 'web' }, maxUnavailable: 1 });
    kube.seedPdb({ name: 'web-b', namespace: 'shop', matchLabels: { tier: 'front' }, maxUnavailable: 1 });
    const r = await evict('shop', 'web-0');
    expect(r.status).to.equal(500);
    expect(r.json.message).to.equal('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
  });

  it("maxUnavailable counts the pods' controllers' replicas; pods without a scalable controller fail the PDB sync (nothing may go)", async () => {
    kube.seedPod({ name: 'api-0', namespace: 'shop', nodeName: 'edge-1', labels: { app: 'api' }, owner: { kind: 'ReplicaSet', name: 'api-rs' } });
    kube.seedPod({ name: 'api-1', namespace: 'shop', nodeName: 'edge-1', labels: { app: 'api' }, owner: { kind: 'ReplicaSet', name: 'api-rs' } });
    kube.seedPdb({ name: 'api', namespace: 'shop', matchLabels: { app: 'api' }, maxUnavailable: 1 });
    expect(pdbStatus('shop', 'api')).to.include({ expectedPods: 2, desiredHealthy: 1, currentHealthy: 2, disruptionsAllowed: 1 });
    kube.seedPod({ name: 'agent-x', namespace: 'shop', nodeName: 'edge-1', labels: { app: 'agent' }, owner: { kind: 'DaemonSet', name: 'agent' } });
    kube.seedPdb({ name: 'agent', namespace: 'shop', matchLabels: { app: 'agent' }, maxUnavailable: '50%' });
    const st = pdbStatus('shop', 'agent');
    expect(st.disruptionsAllowed).to.equal(0);
    expect(st.conditions[0]).to.include({ type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed' });
    expect(kube.pod('shop', 'agent-x')!.metadata.ownerReferences![0]).to.include({ kind: 'DaemonSet', name: 'agent', controller: true });
  });

  it('an unready pod goes without using the budget while the budget is met (IfHealthyBudget)', async () => {
    kube.seedPod({ name: 'q-0', namespace: 'shop', nodeName: 'edge-1', labels: { app: 'q' } });
    kube.seedPod({ name: 'q-1', namespace: 'shop', nodeName: 'edge-1', labels: { app: 'q' } });
    kube.seedPod({ name: 'q-2', namespace: 'shop', nodeName: 'edge-1', labels: { app: 'q' }, ready: false });
    kube.seedPdb({ name: 'q', namespace: 'shop', matchLabels: { app: 'q' }, minAvailable: 2 });
    expect(pdbStatus('shop', 'q')).to.include({ currentHealthy: 2, desiredHealthy: 2, disruptionsAllowed: 0 });
    expect((await evict('shop', 'q-0')).status, 'a ready one would break the budget').to.equal(429);
    expect((await evict('shop', 'q-2')).status).to.equal(201);
    expect(pdbStatus('shop', 'q').disruptionsAllowed).to.equal(0);
  });
});
