// The fake Kubernetes API over HTTPS: auth, Status errors, Node CRUD and patch flavours, leases.
import { expect } from 'chai';
import https from 'node:https';
import { FakeKubeApi } from './fake-kube-api.js';
import { trustAgent } from './tls.js';

describe('fake Kubernetes API', function () {
  let kube: FakeKubeApi;
  let agent: https.Agent;

  before(async () => {
    kube = await FakeKubeApi.start({
      tokens: ['good'],
      acceptToken: (t) => (t === 'node-token' ? 'system:node:n1' : false),
      authorize: (c) => !(c.user === 'system:node:n1' && c.verb === 'delete'),
    });
    agent = trustAgent(kube.caPem);
  });
  after(() => kube.stop());

  function req(method: string, path: string, body?: unknown, opts: { token?: string | null; type?: string } = {}) {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const token = opts.token === undefined ? 'good' : opts.token;
    return new Promise<{ status: number; json: Record<string, any> }>((resolve, reject) => {
      const r = https.request(`${kube.url}${path}`, {
        method, agent,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(text ? { 'content-type': opts.type ?? 'application/json' } : {}) },
      }, (res) => {
        let d = '';
        res.on('data', (c) => { d += c; });
        res.on('end', () => resolve({ status: res.statusCode!, json: d ? JSON.parse(d) : {} }));
      });
      r.on('error', reject);
      r.end(text);
    });
  }

  it('serves /version without auth and answers 401/403/404 with Status objects', async () => {
    expect((await req('GET', '/version', undefined, { token: null })).json.gitVersion).to.equal('v1.31.2');
    const u = await req('GET', '/api/v1/nodes', undefined, { token: null });
    expect(u.status).to.equal(401);
    expect(u.json).to.include({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect((await req('GET', '/api/v1/nodes', undefined, { token: 'nope' })).status).to.equal(401);
    const nf = await req('GET', '/api/v1/nodes/missing');
    expect(nf.json).to.include({ kind: 'Status', reason: 'NotFound', code: 404, message: 'nodes "missing" not found' });
    await req('POST', '/api/v1/nodes', { metadata: { name: 'keep' } });
    const fb = await req('DELETE', '/api/v1/nodes/keep', undefined, { token: 'node-token' });
    expect(fb.status).to.equal(403);
    expect(fb.json.message).to.equal('nodes "keep" is forbidden: User "system:node:n1" cannot delete resource "nodes" in API group "" at the cluster scope');
  });

  it('creates nodes (409 on duplicates) and applies merge, strategic-merge and JSON patches', async () => {
    const created = await req('POST', '/api/v1/nodes', { metadata: { name: 'n1', labels: { a: '1' } },
      status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'DiskPressure', status: 'False' }] } });
    expect(created.status).to.equal(201);
    expect(created.json.metadata.uid).to.be.a('string');
    expect((await req('POST', '/api/v1/nodes', { metadata: { name: 'n1' } })).json).to.include({ reason: 'AlreadyExists', code: 409 });

    await req('PATCH', '/api/v1/nodes/n1', { metadata: { labels: { b: '2', a: null } }, spec: { unschedulable: true } },
      { type: 'application/merge-patch+json' });
    await req('PATCH', '/api/v1/nodes/n1/status', { status: { conditions: [{ type: 'Ready', status: 'True' }] } },
      { type: 'application/strategic-merge-patch+json' });
    await req('PATCH', '/api/v1/nodes/n1', [{ op: 'add', path: '/metadata/annotations', value: { x: 'y' } }],
      { type: 'application/json-patch+json' });
    const n = kube.node('n1')!;
    expect(n.metadata.labels).to.deep.equal({ b: '2' });
    expect(n.metadata.annotations).to.deep.equal({ x: 'y' });
    expect(n.spec).to.deep.equal({ unschedulable: true });
    expect(kube.readyCondition('n1')?.status).to.equal('True');
    expect((n.status!.conditions as unknown[]).length).to.equal(2);

    const stale = await req('PUT', '/api/v1/nodes/n1', { metadata: { name: 'n1', resourceVersion: '1' } });
    expect(stale.json).to.include({ reason: 'Conflict', code: 409 });
    const list = await req('GET', '/api/v1/nodes?labelSelector=b%3D2');
    expect(list.json.items.map((i: { metadata: { name: string } }) => i.metadata.name)).to.deep.equal(['n1']);
    expect((await req('DELETE', '/api/v1/nodes/n1')).status).to.equal(200);
    expect(kube.node('n1')).to.equal(undefined);
  });

  it('creates and renews node leases', async () => {
    const path = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
    expect((await req('POST', path, { metadata: { name: 'n2' }, spec: { holderIdentity: 'n2', renewTime: 't1' } })).status).to.equal(201);
    const got = await req('GET', `${path}/n2`);
    const put = await req('PUT', `${path}/n2`, { ...got.json, spec: { ...got.json.spec, renewTime: 't2' } });
    expect(put.status).to.equal(200);
    expect(kube.lease('n2')!.spec!.renewTime).to.equal('t2');
  });

  it('injects faults as Status objects', async () => {
    kube.inject({ pathMatch: '/api/v1/nodes', status: 429, retryAfterSec: 1 });
    const r = await req('GET', '/api/v1/nodes');
    expect(r.json).to.include({ kind: 'Status', reason: 'TooManyRequests', code: 429 });
  });
});
