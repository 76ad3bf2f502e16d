import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { FlexnodeConfig, NodeMaintenanceService, UpgradePlan } from '@flexnode/sdk';
import { testConfig } from '@flexnode/sdk/testing';
import { makeTmp } from '../host/support.test.helpers.js';
import { createRealHost } from '../host/real-host.js';
import { nullLogger } from '../logging/index.js';
import { takeCheckpoint } from '../state/checkpoint.js';
import { Journal } from '../state/journal.js';
import { readUpgradeState, writeUpgradeState } from '../state/upgrade-state.js';
import type { RunReport } from './executor.js';
import { recoverUpgrade, runUpgrade, type UpgradeContext } from './upgrade.js';

const STATE = '/var/lib/flexnode';

/** A node where step demo.bin installed /usr/local/bin/demo (v1), and an upgrade that makes it v2 (and adds a file). */
async function rig(opts: { converge?: 'ok' | 'fail'; ready?: boolean } = {}) {
  const root = await makeTmp('flexnode-upgrade-');
  const journal = await Journal.open(join(root, STATE));
  const real = createRealHost({ root, dryRun: false, stateDir: STATE, journal, log: nullLogger(), redact: (s) => s });
  const demo = () => real.forStep('demo.bin', '@test/demo');
  await demo().files.write('/usr/local/bin/demo', 'v1\n', { mode: 0o755 });
  await demo().changes.record('demo-version', { version: '1.30.4' });
  const before = structuredClone(journal.get('demo.bin'));
  const calls: string[] = [];
  const plan: UpgradePlan = {
    from: '1.30.4',
    to: '1.31.2',
    source: 'cluster',
    apiServer: '1.31.2',
    outsideSkew: false,
    config: { kubernetes: { version: '1.31.2' } },
  };
  const service: NodeMaintenanceService = {
    upgradePlan: async () => (calls.push('plan'), plan),
    begin: async () => void calls.push('begin'),
    waitReady: async (v) => {
      calls.push(`waitReady ${v}`);
      if (v === '1.31.2' && opts.ready === false)
        throw new Error('Node edge-1 did not come back Ready with kubelet v1.31.2 within 20 s: kubelet v1.31.2, Ready False');
    },
    end: async () => void calls.push('end'),
  };
  const result = (ok: boolean): RunReport => ({
    ok,
    results: [
      {
        id: 'demo.bin',
        title: 'demo',
        plugin: '@test/demo',
        outcome: ok ? 'installed' : 'failed',
        durationMs: 1,
        ...(ok ? {} : { error: { code: 'X', message: 'boom' } }),
      },
    ],
  });
  const seen: FlexnodeConfig[] = [];
  const ctx: UpgradeContext = {
    root,
    stateDir: join(root, STATE),
    journal,
    log: nullLogger(),
    config: testConfig(),
    maintenance: () => service,
    plan: async (config) => (
      seen.push(config),
      { ...result(true), results: [{ id: 'demo.bin', title: 'demo', plugin: '@test/demo', outcome: 'planned', durationMs: 1 }], changes: [] }
    ),
    prefetch: async () => void calls.push('prefetch'),
    converge: async () => {
      calls.push('converge');
      await demo().files.write('/usr/local/bin/demo', 'v2\n', { mode: 0o755 });
      await demo().files.write('/etc/demo/extra.conf', 'new in 1.31\n');
      await demo().changes.forget('demo-version');
      await demo().changes.record('demo-version', { version: '1.31.2' });
      return result(opts.converge !== 'fail');
    },
    withDependents: (ids) => [...ids],
    hostFor: (id, plugin) => real.forStep(id, plugin),
  };
  const read = (p: string) => fs.readFile(join(root, p), 'utf8').catch(() => undefined);
  return { root, journal, ctx, calls, before, read, seen, demo };
}

describe('upgrade transaction (core): checkpoint, swap, verify, roll back, recover', () => {
  it('success: prefetch before the node is taken out, the swap under the new config, Ready with the new version, back in service', async () => {
    const r = await rig();
    const report = await runUpgrade(r.ctx, {});
    expect(report).to.deep.include({ ok: true, changed: true, from: '1.30.4', to: '1.31.2', steps: ['demo.bin'] });
    expect(r.calls).to.deep.equal(['plan', 'prefetch', 'begin', 'converge', 'waitReady 1.31.2', 'end']);
    expect(r.seen[0]!.kubernetes?.version).to.equal('1.31.2');
    expect(await r.read('/usr/local/bin/demo')).to.equal('v2\n');
    expect(await readUpgradeState(r.ctx.stateDir)).to.equal(undefined);
    expect(await fs.readdir(r.ctx.stateDir)).to.not.include('upgrade');
  });

  it('the node does not come back Ready: files, journal records and new files are as before, the node back in service, exit 1 naming why', async () => {
    const r = await rig({ ready: false });
    const error = (await runUpgrade(r.ctx, {}).catch((e: unknown) => e)) as Error & { exitCode?: number; code?: string };
    expect(error.code).to.equal('UPGRADE_FAILED');
    expect(error.exitCode).to.equal(1);
    expect(error.message).to.match(
      /^the upgrade from 1\.30\.4 to 1\.31\.2 failed: Node edge-1 did not come back Ready with kubelet v1\.31\.2 within 20 s.*; rolled back to 1\.30\.4, the node is back in service$/,
    );
    expect(r.calls).to.deep.equal(['plan', 'prefetch', 'begin', 'converge', 'waitReady 1.31.2', 'waitReady 1.30.4', 'end']);
    expect(await r.read('/usr/local/bin/demo')).to.equal('v1\n');
    expect((await fs.stat(join(r.root, '/usr/local/bin/demo'))).mode & 0o777).to.equal(0o755);
    expect(await r.read('/etc/demo/extra.conf')).to.equal(undefined);
    expect(r.journal.get('demo.bin')?.changes).to.deep.equal(r.before?.changes);
    expect(await readUpgradeState(r.ctx.stateDir)).to.equal(undefined);
  });

  it('a step fails during the swap: rolled back the same way, the failure named', async () => {
    const r = await rig({ converge: 'fail' });
    const error = (await runUpgrade(r.ctx, {}).catch((e: unknown) => e)) as Error;
    expect(error.message).to.match(/failed: demo\.bin failed: boom; rolled back to 1\.30\.4/);
    expect(await r.read('/usr/local/bin/demo')).to.equal('v1\n');
  });

  it('a run killed during the swap is rolled back by the next one; killed before it, the node is only put back', async () => {
    const r = await rig();
    await writeUpgradeState(r.ctx.stateDir, { version: 1, from: '1.30.4', to: '1.31.2', phase: 'draining', startedAt: 'T0', steps: ['demo.bin'] });
    await takeCheckpoint(r.journal, ['demo.bin'], r.root, r.ctx.stateDir);
    await writeUpgradeState(r.ctx.stateDir, { version: 1, from: '1.30.4', to: '1.31.2', phase: 'swapping', startedAt: 'T0', steps: ['demo.bin'] });
    await r.demo().files.write('/usr/local/bin/demo', 'v2-half\n', { mode: 0o755 }); // SIGKILL here
    const recovered = await recoverUpgrade(r.ctx);
    expect(recovered).to.match(
      /an upgrade from 1\.30\.4 to 1\.31\.2 begun T0 was interrupted \(swapping\): rolled back to 1\.30\.4, and the node is back in service/,
    );
    expect(await r.read('/usr/local/bin/demo')).to.equal('v1\n');
    expect(r.calls).to.deep.equal(['waitReady 1.30.4', 'end']);
    expect(await recoverUpgrade(r.ctx)).to.equal(undefined);
    const s = await rig();
    await writeUpgradeState(s.ctx.stateDir, { version: 1, from: '1.30.4', to: '1.31.2', phase: 'draining', startedAt: 'T0', steps: ['demo.bin'] });
    expect(await recoverUpgrade(s.ctx)).to.match(/\(draining\): nothing had been replaced: the node runs 1\.30\.4/);
    expect(s.calls).to.deep.equal(['end']);
  });

  it('nothing to change: no slot, no cordon, nothing written; a dry run plans only', async () => {
    const r = await rig();
    r.ctx.plan = async () => ({
      ok: true,
      results: [{ id: 'demo.bin', title: 'demo', plugin: '@test/demo', outcome: 'unchanged', durationMs: 1 }],
      changes: [],
    });
    expect(await runUpgrade(r.ctx, {})).to.deep.include({ ok: true, changed: false, steps: [] });
    const d = await rig();
    expect(await runUpgrade(d.ctx, { dryRun: true })).to.deep.include({ ok: true, changed: false, steps: ['demo.bin'] });
    expect([...r.calls, ...d.calls]).to.deep.equal(['plan', 'plan']);
  });
});
