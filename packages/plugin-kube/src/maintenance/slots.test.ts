import { expect } from 'chai';
import type { Logger } from '@flexnode/sdk';
import { MemoryKubeApi } from './memory-api.test.helpers.js';
import { acquireSlot, releaseSlots, renewSlot } from './slots.js';

const log: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function clock(start = Date.parse('2026-11-01T10:00:00Z')) {
  let t = start;
  return { now: () => t, sleep: async (ms: number) => void (t += ms), advance: (ms: number) => void (t += ms) };
}

const opts = (holder: string, c: ReturnType<typeof clock>, extra: { slots?: number; waitMs?: number } = {}) => ({
  namespace: 'kube-node-lease',
  slots: extra.slots ?? 1,
  holder,
  leaseSeconds: 300,
  waitMs: extra.waitMs ?? 60_000,
  pollMs: 5000,
  log,
  now: c.now,
  sleep: c.sleep,
});

describe('upgrade slots (Leases)', () => {
  it('one slot: the first node creates and holds it, the second waits and times out naming the holder, then gets it once released', async () => {
    const api = new MemoryKubeApi();
    const c = clock();
    expect(await acquireSlot(api, opts('a', c))).to.equal('flexnode-upgrade-0');
    expect(api.leases.get('kube-node-lease/flexnode-upgrade-0')!.spec).to.include({ holderIdentity: 'a', leaseDurationSeconds: 300, leaseTransitions: 0 });
    const error = (await acquireSlot(api, opts('b', c, { waitMs: 20_000 })).catch((e: Error) => e)) as Error;
    expect(error?.message).to.match(/^no upgrade slot came free in 20 s \(1 node\(s\) of the cluster may upgrade at once\): flexnode-upgrade-0 held by a/);
    expect(await releaseSlots(api, { namespace: 'kube-node-lease', holder: 'a', slots: 1 })).to.deep.equal(['flexnode-upgrade-0']);
    expect(api.leases.get('kube-node-lease/flexnode-upgrade-0')!.spec.holderIdentity).to.equal(undefined);
    expect(await acquireSlot(api, opts('b', c))).to.equal('flexnode-upgrade-0');
    expect(api.leases.get('kube-node-lease/flexnode-upgrade-0')!.spec).to.include({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('N slots let N nodes in; a holder that stopped renewing loses its slot when the lease lapses; a holder gets its own back at once', async () => {
    const api = new MemoryKubeApi();
    const c = clock();
    expect(await acquireSlot(api, opts('a', c, { slots: 2 }))).to.equal('flexnode-upgrade-0');
    expect(await acquireSlot(api, opts('b', c, { slots: 2 }))).to.equal('flexnode-upgrade-1');
    expect(await acquireSlot(api, opts('a', c, { slots: 2 }))).to.equal('flexnode-upgrade-0'); // resumed after a crash
    c.advance(200_000);
    expect(await renewSlot(api, opts('b', c), 'flexnode-upgrade-1')).to.equal(true);
    c.advance(150_000); // a's lease lapsed (350 s > 300 s); b renewed 150 s ago
    expect(await acquireSlot(api, opts('c', c, { slots: 2, waitMs: 0 }))).to.equal('flexnode-upgrade-0');
    expect(await renewSlot(api, opts('a', c), 'flexnode-upgrade-0')).to.equal(false);
  });

  it('a lost race (409 on the update) moves on to the next slot', async () => {
    const api = new MemoryKubeApi();
    const c = clock();
    await acquireSlot(api, opts('x', c, { slots: 2 }));
    await releaseSlots(api, { namespace: 'kube-node-lease', holder: 'x', slots: 2 });
    const update = api.updateLease.bind(api);
    let raced = false;
    api.updateLease = async (ns, name, lease) => {
      if (!raced && name === 'flexnode-upgrade-0') {
        raced = true;
        const cur = api.leases.get(`${ns}/${name}`)!;
        await update(ns, name, { ...cur, spec: { ...cur.spec, holderIdentity: 'other', renewTime: new Date(c.now()).toISOString() } });
      }
      return update(ns, name, lease);
    };
    expect(await acquireSlot(api, opts('me', c, { slots: 2 }))).to.equal('flexnode-upgrade-1');
    expect(api.leases.get('kube-node-lease/flexnode-upgrade-0')!.spec.holderIdentity).to.equal('other');
  });
});
