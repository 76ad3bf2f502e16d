import { expect } from 'chai';
import type { Logger } from '@flexnode/sdk';
import { cordon, cordonState, uncordon } from './cordon.js';
import { DrainTimeoutError, drainNode } from './drain.js';
import { MemoryKubeApi } from './memory-api.test.helpers.js';

const lines: string[] = [];
const log: Logger = { debug: () => undefined, info: (m) => lines.push(m), warn: (m) => lines.push(`WARN ${m}`), error: (m) => lines.push(`ERROR ${m}`) };

/** A clock that sleeping moves on. */
function clock() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms) };
}

function cluster() {
  return new MemoryKubeApi()
    .addNode('edge-1')
    .addPod({ name: 'web', node: 'edge-1', controller: 'ReplicaSet' })
    .addPod({ name: 'bare', node: 'edge-1' })
    .addPod({ name: 'agent', namespace: 'kube-system', node: 'edge-1', controller: 'DaemonSet' })
    .addPod({ name: 'static-edge-1', namespace: 'kube-system', node: 'edge-1', controller: 'Node', mirror: true })
    .addPod({ name: 'elsewhere', node: 'edge-2', controller: 'ReplicaSet' });
}

describe('drain', () => {
  it('evicts every pod of the node through the Eviction API but DaemonSet and mirror pods, and waits until they are gone', async () => {
    const api = cluster();
    const report = await drainNode(api, 'edge-1', { timeoutMs: 60_000, force: false, log, ...clock() });
    expect(report.evicted.sort()).to.deep.equal(['default/bare', 'default/web']);
    expect(report.kept.map((k) => k.pod)).to.deep.equal(['kube-system/agent', 'kube-system/static-edge-1']);
    expect(api.podNames('edge-1')).to.deep.equal(['kube-system/agent', 'kube-system/static-edge-1']);
    expect(api.podNames('edge-2')).to.deep.equal(['default/elsewhere']);
    expect(api.calls.filter((c) => c.startsWith('EVICT'))).to.deep.equal(['EVICT default/web', 'EVICT default/bare']);
    expect(lines.some((l) => /WARN pod default\/bare has no controller/.test(l))).to.equal(true);
  });

  it('a PodDisruptionBudget that allows no disruption: retried until the timeout, which names the pod and the budget', async () => {
    const api = cluster().addPod({ name: 'guarded', node: 'edge-1', controller: 'ReplicaSet', budget: 'guarded-pdb' });
    const c = clock();
    const error = await drainNode(api, 'edge-1', { timeoutMs: 30_000, force: false, log, retryMs: 5000, ...c }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(DrainTimeoutError);
    expect((error as Error).message).to.equal(
      'draining Node edge-1 timed out after 30 s: 1 pod still on it: default/guarded (PodDisruptionBudget default/guarded-pdb allows no disruption now: The disruption budget guarded-pdb needs 1 healthy pods and has 1 currently)',
    );
    expect((error as DrainTimeoutError).hint).to.match(/--force/);
    // Tried again every 5 s until the 30 s were up; the other pods went.
    expect(api.calls.filter((c) => c === 'EVICT default/guarded').length).to.equal(7);
    expect(api.podNames('edge-1')).to.include('default/guarded').and.not.include('default/web');
  });

  it('with force: a refused eviction is reported and not waited for; a pod still terminating is waited for until the timeout', async () => {
    const api = cluster().addPod({ name: 'guarded', node: 'edge-1', controller: 'ReplicaSet', budget: 'guarded-pdb' });
    const c = clock();
    const report = await drainNode(api, 'edge-1', { timeoutMs: 30_000, force: true, log, ...c });
    expect(report.blocking.map((b) => b.pod)).to.deep.equal(['default/guarded']);
    expect(c.now(), 'one retry (the evicted pods seen gone), not the 30 s').to.equal(5000);
    const slow = cluster();
    slow.kubeletStops = false; // evicted pods stay terminating: no kubelet deletes them
    const c2 = clock();
    const r2 = await drainNode(slow, 'edge-1', { timeoutMs: 20_000, force: true, log, ...c2 });
    expect(r2.blocking.map((b) => `${b.pod}: ${b.why}`)).to.deep.equal([
      'default/web: terminating: its kubelet has not stopped it yet',
      'default/bare: terminating: its kubelet has not stopped it yet',
    ]);
    expect(c2.now()).to.equal(20_000);
  });

  it('a 403 on an eviction is an error naming the call, at once', async () => {
    const api = cluster();
    api.evictPod = async () => ({ status: 403, body: { message: 'pods "web" is forbidden: User "x" cannot create resource "pods/eviction"' } });
    const error = (await drainNode(api, 'edge-1', { timeoutMs: 60_000, force: false, log, ...clock() }).catch((e: Error & { hint?: string }) => e)) as Error & {
      hint?: string;
    };
    expect(error?.message).to.match(/^evicting pod default\/web answered HTTP 403: pods "web" is forbidden/);
    expect(error?.hint).to.match(/node identity's role/);
  });
});

describe('cordon', () => {
  it("cordons with flexnode's note on the Node; uncordon clears both; a Node someone else cordoned is left as it is", async () => {
    const api = new MemoryKubeApi().addNode('a').addNode('b');
    expect(await cordon(api, 'a', 'upgrade', new Date('2026-11-01T10:00:00Z'))).to.deep.equal({ kind: 'schedulable' });
    expect(cordonState(api.nodes.get('a')!)).to.deep.equal({ kind: 'flexnode', reason: 'upgrade', at: '2026-11-01T10:00:00.000Z' });
    expect(await cordon(api, 'a', 'upgrade')).to.deep.include({ kind: 'flexnode' }); // again: nothing changes
    expect(await uncordon(api, 'a')).to.equal(true);
    expect(api.nodes.get('a')!.spec).to.deep.equal({});
    expect(api.nodes.get('a')!.metadata.annotations).to.deep.equal({});
    api.nodes.get('b')!.spec.unschedulable = true; // kubectl cordon b
    expect(await cordon(api, 'b', 'upgrade')).to.deep.equal({ kind: 'other' });
    expect(await uncordon(api, 'b')).to.equal(false);
    expect(api.nodes.get('b')!.spec.unschedulable).to.equal(true);
    expect(await uncordon(api, 'gone')).to.equal(false);
  });
});
