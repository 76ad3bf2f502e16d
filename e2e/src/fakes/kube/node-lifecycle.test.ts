// The FAKE API server's node lifecycle controller against what kube-controller-manager does to a Node whose kubelet
// falls silent (controllers.ts cites the source): conditions Unknown after the grace period, the unreachable
// taints while it lasts, the not-ready ones for Ready False, the unschedulable one for a cordon.
import { expect } from 'chai';
import { FakeKubeApi } from '../fake-kube-api.js';
import type { IssuedCert } from './cluster-ca.js';
import { kubeClient } from './client.test.helpers.js';

const LEASES = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
const STATUS_PATCH = 'application/merge-patch+json';

describe('fake Kubernetes API: node lifecycle controller', function () {
  this.timeout(20_000);
  let kube: FakeKubeApi;
  let call: ReturnType<typeof kubeClient>;
  let node: IssuedCert;

  before(async () => {
    kube = await FakeKubeApi.start({ version: 'v1.35.6', nodeMonitorGraceSeconds: 1 });
    call = kubeClient(kube);
    node = await kube.issueClientCert('system:node:n1', ['system:nodes']);
  });
  after(() => kube.stop());

  const get = async () => (await call('GET', '/api/v1/nodes/n1', node)).json;
  const ready = (n: Record<string, any>) => (n.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
  const taints = (n: Record<string, any>) => ((n.spec?.taints ?? []) as { key: string; effect: string }[]).map((t) => `${t.key}:${t.effect}`).sort();
  const postReady = (status: string) =>
    call(
      'PATCH',
      '/api/v1/nodes/n1/status',
      node,
      {
        status: {
          conditions: [
            { type: 'Ready', status, reason: 'KubeletReady', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() },
          ],
        },
      },
      STATUS_PATCH,
    );
  const until = async (what: string, test: (n: Record<string, any>) => boolean) => {
    const deadline = Date.now() + 8000;
    for (;;) {
      const n = await get();
      if (test(n)) return n;
      if (Date.now() > deadline) throw new Error(`${what}: never; last ${JSON.stringify(n.status?.conditions)} ${JSON.stringify(n.spec?.taints)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it('a kubelet that stops renewing its Lease: Ready Unknown (NodeStatusUnknown) and the unreachable taints; back when it posts again', async () => {
    expect(
      (await call('POST', '/api/v1/nodes', node, { metadata: { name: 'n1' }, spec: { taints: [{ key: 'dedicated', value: 'edge', effect: 'NoSchedule' }] } }))
        .status,
    ).to.equal(201);
    expect(
      (
        await call('POST', LEASES, node, {
          metadata: { name: 'n1' },
          spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: new Date().toISOString() },
        })
      ).status,
    ).to.equal(201);
    expect((await postReady('True')).status).to.equal(200);
    expect(ready(await get()).status).to.equal('True');

    const silent = await until('Ready Unknown', (n) => ready(n)?.status === 'Unknown');
    expect(ready(silent)).to.include({ reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    expect(taints(silent)).to.deep.equal(['dedicated:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);

    await postReady('True');
    const back = await until('taints lifted', (n) => taints(n).length === 1);
    expect(ready(back).status).to.equal('True');
    expect(taints(back)).to.deep.equal(['dedicated:NoSchedule']);

    await postReady('False');
    expect(taints(await until('not-ready taints', (n) => taints(n).length === 3))).to.include('node.kubernetes.io/not-ready:NoExecute');
    await postReady('True');
    await until('not-ready lifted', (n) => taints(n).length === 1);
  });

  it('a Node whose kubelet never posted a status: NodeStatusNeverUpdated after the startup grace', async () => {
    const n2 = await kube.issueClientCert('system:node:n2', ['system:nodes']);
    expect((await call('POST', '/api/v1/nodes', n2, { metadata: { name: 'n2' } })).status).to.equal(201);
    const deadline = Date.now() + 8000;
    let ready: Record<string, any> | undefined;
    while (!ready && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      ready = ((await call('GET', '/api/v1/nodes/n2', n2)).json.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
    }
    expect(ready).to.include({ status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.' });
  });

  it('a cordon gets the unschedulable taint, an uncordon loses it', async () => {
    await postReady('True');
    await call('PATCH', '/api/v1/nodes/n1', node, { spec: { unschedulable: true } }, STATUS_PATCH);
    expect(taints(await until('unschedulable taint', (n) => taints(n).length === 2))).to.include('node.kubernetes.io/unschedulable:NoSchedule');
    await call('PATCH', '/api/v1/nodes/n1', node, { spec: { unschedulable: false } }, STATUS_PATCH);
    expect(taints(await until('uncordoned', (n) => taints(n).length === 1))).to.deep.equal(['dedicated:NoSchedule']);
  });
});
