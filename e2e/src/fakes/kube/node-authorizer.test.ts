// A kubelet that authenticates as system:node:<name> (client certificate of the cluster CA): the Node authorizer
// limits it to its own Node, Lease and CSINode and to objects of pods bound to it; NodeRestriction limits its writes.
import { expect } from 'chai';
import { FakeKubeApi } from '../fake-kube-api.js';
import type { IssuedCert } from './cluster-ca.js';
import { kubeClient } from './client.test.helpers.js';

const LEASES = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';

describe('fake Kubernetes API: Node authorizer and NodeRestriction for system:node identities', function () {
  let kube: FakeKubeApi;
  let call: ReturnType<typeof kubeClient>;
  let n1: IssuedCert;
  let admin: IssuedCert;

  before(async () => {
    kube = await FakeKubeApi.start({ version: 'v1.35.6' });
    call = kubeClient(kube);
    [n1, admin] = await Promise.all([kube.issueClientCert('system:node:n1', ['system:nodes']), kube.issueClientCert('masterclient', ['system:masters'])]);
    for (const n of ['n1', 'n2']) await call('POST', '/api/v1/nodes', admin, { metadata: { name: n } });
    await call('POST', LEASES, admin, { metadata: { name: 'n2' } });
    for (const [kind, name] of [
      ['secrets', 'mine'],
      ['secrets', 'theirs'],
      ['configmaps', 'mine-cm'],
    ]) {
      await call('POST', `/api/v1/namespaces/default/${kind}`, admin, { metadata: { name }, data: {} });
    }
    kube.seedPod({
      name: 'on-n1',
      nodeName: 'n1',
      spec: {
        volumes: [
          { name: 's', secret: { secretName: 'mine' } },
          { name: 'c', configMap: { name: 'mine-cm' } },
        ],
      },
    });
    kube.seedPod({ name: 'on-n2', nodeName: 'n2', spec: { volumes: [{ name: 's', secret: { secretName: 'theirs' } }] } });
  });
  after(() => kube.stop());

  const message = async (method: string, path: string, body?: unknown) => {
    const r = await call(method, path, n1, body, method === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
    return r.status < 300 ? r.status : `${r.status} ${r.json.message}`;
  };

  it('its own Node only: get and list by name work, other nodes and unfiltered lists do not', async () => {
    expect(await message('GET', '/api/v1/nodes/n1')).to.equal(200);
    expect(await message('GET', '/api/v1/nodes?fieldSelector=metadata.name%3Dn1')).to.equal(200);
    expect(await message('GET', '/api/v1/nodes/n2')).to.equal(
      `403 nodes "n2" is forbidden: User "system:node:n1" cannot get resource "nodes" in API group "" at the cluster scope: node 'n1' cannot read 'n2', only its own Node object`,
    );
    expect(await message('GET', '/api/v1/nodes')).to.match(/node 'n1' cannot read all nodes, only its own Node object$/);
    expect(await message('DELETE', '/api/v1/nodes/n1')).to.match(/^403 nodes "n1" is forbidden: User "system:node:n1" cannot delete resource "nodes"/);
  });

  it("its own Lease in kube-node-lease only: another node's Lease is 403", async () => {
    expect(await message('POST', LEASES, { metadata: { name: 'n1' }, spec: { holderIdentity: 'n1' } })).to.equal(201);
    expect(await message('GET', `${LEASES}/n1`)).to.equal(200);
    expect(await message('GET', `${LEASES}/n2`)).to.equal(
      '403 leases.coordination.k8s.io "n2" is forbidden: User "system:node:n1" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease": can only access node lease with the same name as the requesting node',
    );
    expect(await message('POST', LEASES, { metadata: { name: 'n2-fake' } })).to.equal(
      '403 leases.coordination.k8s.io "n2-fake" is forbidden: can only access node lease with the same name as the requesting node',
    );
    expect(await message('GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/n1')).to.match(
      /can only access leases in the "kube-node-lease" system namespace$/,
    );
  });

  it('secrets and configmaps of pods bound to it only; pods listed with spec.nodeName=<self> only', async () => {
    expect(await message('GET', '/api/v1/namespaces/default/secrets/mine')).to.equal(200);
    expect(await message('GET', '/api/v1/namespaces/default/secrets?fieldSelector=metadata.name%3Dmine')).to.equal(200);
    expect(await message('GET', '/api/v1/namespaces/default/configmaps/mine-cm')).to.equal(200);
    expect(await message('GET', '/api/v1/namespaces/default/secrets/theirs')).to.match(/: no relationship found between node 'n1' and this object$/);
    expect(await message('GET', '/api/v1/namespaces/default/secrets')).to.match(/: No Object name found$/);
    expect(await message('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1')).to.equal(200);
    expect(await message('GET', '/api/v1/pods')).to.match(/: can only list\/watch pods with spec.nodeName field selector$/);
    expect(await message('GET', '/api/v1/namespaces/default/pods/on-n2')).to.match(/no relationship found between node 'n1' and this object$/);
  });

  it('service-account tokens only for pods bound to it, bound to such a pod', async () => {
    const pod = kube.pod('default', 'on-n1')!;
    const bound = { spec: { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'on-n1', uid: pod.metadata.uid } } };
    expect(await message('POST', '/api/v1/namespaces/default/serviceaccounts/default/token', bound)).to.equal(201);
    expect(await message('POST', '/api/v1/namespaces/default/serviceaccounts/default/token', { spec: {} })).to.match(
      /node requested token not bound to a pod$/,
    );
    const other = kube.pod('default', 'on-n2')!;
    expect(
      await message('POST', '/api/v1/namespaces/default/serviceaccounts/default/token', {
        spec: { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'on-n2', uid: other.metadata.uid } },
      }),
    ).to.match(/node requested token bound to a pod scheduled on a different node$/);
  });

  it('NodeRestriction: no other Node, no node-restriction labels, no taint changes, only mirror pods bound to itself', async () => {
    expect(await message('PATCH', '/api/v1/nodes/n2', { metadata: { labels: { a: 'b' } } })).to.match(/node "n1" is not allowed to modify node "n2"$/);
    const patch = (body: unknown) => call('PATCH', '/api/v1/nodes/n1', n1, body, 'application/merge-patch+json');
    expect((await patch({ metadata: { labels: { 'kubernetes.azure.com/managed': 'false' } } })).status).to.equal(200);
    expect((await patch({ metadata: { labels: { 'node-restriction.kubernetes.io/trusted': 'yes' } } })).json.message).to.equal(
      'nodes "n1" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/trusted',
    );
    expect((await patch({ metadata: { labels: { 'node-role.kubernetes.io/control-plane': '' } } })).json.message).to.match(
      /is not allowed to modify labels: node-role.kubernetes.io\/control-plane$/,
    );
    expect((await patch({ spec: { taints: [{ key: 'x', effect: 'NoSchedule' }] } })).json.message).to.equal(
      'nodes "n1" is forbidden: node "n1" is not allowed to modify taints',
    );
    expect((await patch({ spec: { unschedulable: true } })).status).to.equal(200);
    // Registering: the same label rule as an update (a kubelet's --node-labels in the node-role namespace is refused).
    const n3 = await kube.issueClientCert('system:node:n3', ['system:nodes']);
    const register = (labels: Record<string, string>) => call('POST', '/api/v1/nodes', n3, { metadata: { name: 'n3', labels } });
    expect((await register({ 'kubernetes.io/hostname': 'n3', 'node-role.kubernetes.io/worker': '', 'other.k8s.io/x': 'y' })).json.message).to.equal(
      'nodes "n3" is forbidden: node "n3" is not allowed to set the following labels: node-role.kubernetes.io/worker, other.k8s.io/x',
    );
    expect((await register({ 'kubernetes.io/hostname': 'n3', 'node.kubernetes.io/instance-type': 'edge', 'example.com/team': 'a' })).status).to.equal(201);
    const pod = (extra: Record<string, unknown>) => ({
      metadata: { name: 'static-n1', ...extra },
      spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x:1' }] },
    });
    expect(await message('POST', '/api/v1/namespaces/default/pods', pod({}))).to.match(
      /pod does not have "kubernetes.io\/config.mirror" annotation, node "n1" can only create mirror pods$/,
    );
    const mirror = { annotations: { 'kubernetes.io/config.mirror': 'h' } };
    expect(
      await message('POST', '/api/v1/namespaces/default/pods', { ...pod(mirror), spec: { nodeName: 'n2', containers: [{ name: 'c', image: 'x:1' }] } }),
    ).to.match(/node "n1" can only create pods with spec.nodeName set to itself$/);
    expect(await message('POST', '/api/v1/namespaces/default/pods', pod(mirror))).to.equal(201);
    expect(await message('DELETE', '/api/v1/namespaces/default/pods/on-n2')).to.match(/node "n1" can only delete pods with spec.nodeName set to itself$/);
    expect(await message('PATCH', '/api/v1/namespaces/default/pods/on-n1/status', { status: { phase: 'Running' } })).to.equal(200);
    expect(await message('PATCH', '/api/v1/namespaces/default/pods/on-n1/status', { metadata: { labels: { x: 'y' } } })).to.match(
      /node "n1" cannot update labels through pod status$/,
    );
  });

  it('what a drain and an upgrade do as the node: cordon its Node, evict its own pods only; an upgrade slot Lease is refused', async () => {
    // NodeRestriction's admitPodEviction: a node evicts only pods bound to itself. PodDisruptionBudgets are the
    // Eviction API's (no PDB here: 201); the node never needs to read them.
    kube.seedPod({ name: 'evict-me', nodeName: 'n1' });
    kube.seedPod({ name: 'not-mine', nodeName: 'n2' });
    const evict = (name: string) =>
      message('POST', `/api/v1/namespaces/default/pods/${name}/eviction`, {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name, namespace: 'default' },
      });
    expect(await evict('evict-me')).to.equal(201);
    expect(await evict('not-mine')).to.match(/^403 .*node n1 can only evict pods with spec.nodeName set to itself$/);
    expect(await message('GET', '/apis/policy/v1/poddisruptionbudgets')).to.match(/^403 /);
    // cordon and uncordon: spec.unschedulable and flexnode's annotations, no taint (the controller adds that)
    expect(
      await message('PATCH', '/api/v1/nodes/n1', { spec: { unschedulable: true }, metadata: { annotations: { 'flexnode.io/cordoned-by': 'upgrade' } } }),
    ).to.equal(200);
    expect(
      await message('PATCH', '/api/v1/nodes/n1', { spec: { unschedulable: null }, metadata: { annotations: { 'flexnode.io/cordoned-by': null } } }),
    ).to.equal(200);
    // the upgrade slots: NodeRestriction lets a node touch no Lease but its own (so in bootstrap-token mode the operator holds them)
    expect(await message('POST', LEASES, { metadata: { name: 'flexnode-upgrade-0' }, spec: { holderIdentity: 'n1' } })).to.match(
      /can only access node lease with the same name as the requesting node$/,
    );
    expect(await message('GET', `${LEASES}/flexnode-upgrade-0`)).to.match(/can only access node lease with the same name as the requesting node$/);
  });

  it('its own CSINode only', async () => {
    expect(await message('POST', '/apis/storage.k8s.io/v1/csinodes', { metadata: { name: 'n1' }, spec: { drivers: [] } })).to.equal(201);
    expect(await message('POST', '/apis/storage.k8s.io/v1/csinodes', { metadata: { name: 'n2' }, spec: { drivers: [] } })).to.match(
      /can only access CSINode with the same name as the requesting node$/,
    );
    expect(await message('GET', '/apis/storage.k8s.io/v1/csinodes/n2')).to.match(/can only access CSINode with the same name as the requesting node$/);
  });
});
