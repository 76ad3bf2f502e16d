import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { acquireLock, processStartTicks } from './lock.js';

describe('state/acquireLock', () => {
  let base: string;
  let dir: string;
  beforeEach(async () => {
    base = await fs.mkdtemp(join(tmpdir(), 'flexnode-lock-'));
    dir = join(base, 'run', 'flexnode');
  });
  afterEach(async () => {
    await fs.rm(base, { recursive: true, force: true });
  });

  it('writes {pid, command, startedAt, hostname, startTicks} and refuses a second run, naming the holder', async () => {
    const lock = await acquireLock(dir, { command: 'bootstrap' });
    const info = JSON.parse(await fs.readFile(join(dir, 'flexnode.lock'), 'utf8'));
    expect(info).to.include({ pid: process.pid, command: 'bootstrap' });
    expect(info).to.have.keys('pid', 'command', 'startedAt', 'hostname', 'startTicks');
    let thrown: unknown;
    await acquireLock(dir, { command: 'unbootstrap' }).catch((e) => (thrown = e));
    expect(thrown).to.include({ code: 'LOCKED', exitCode: 3 });
    expect((thrown as Error).message)
      .to.contain(`pid ${process.pid}`)
      .and.contain('bootstrap');
    await lock.release();
    expect(await fs.readdir(dir)).to.deep.equal([]);
    const again = await acquireLock(dir, { command: 'status' });
    await again.release();
  });

  it('takes over a stale lock whose process has exited, and logs it', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(join(dir, 'flexnode.lock'), JSON.stringify({ pid: dead, command: 'agent', startedAt: 'then', hostname: 'h' }));
    const warnings: string[] = [];
    const log = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
    const lock = await acquireLock(dir, { command: 'bootstrap', log });
    expect(JSON.parse(await fs.readFile(join(dir, 'flexnode.lock'), 'utf8')).pid).to.equal(process.pid);
    expect(warnings.join()).to.contain(`pid ${dead}`).and.contain('stale');
    await lock.release();
  });

  it('treats a live pid that is not a node process (a recycled pid) as stale', async () => {
    const sleeper = spawn('sleep', ['30']);
    try {
      await fs.mkdir(dir, { recursive: true });
      await fs.writeFile(join(dir, 'flexnode.lock'), JSON.stringify({ pid: sleeper.pid, command: 'agent', startedAt: 'then', hostname: 'h' }));
      const lock = await acquireLock(dir, { command: 'bootstrap' });
      await lock.release();
    } finally {
      sleeper.kill();
    }
  });

  it('treats a live process named like node but not Node.js (node-exporter) as stale', async () => {
    const exporter = spawn('bash', ['-c', 'exec -a /usr/local/bin/prometheus-node-exporter sleep 30']);
    try {
      await new Promise((r) => setTimeout(r, 100)); // bash has exec'd
      await fs.mkdir(dir, { recursive: true });
      await fs.writeFile(join(dir, 'flexnode.lock'), JSON.stringify({ pid: exporter.pid, command: 'agent', startedAt: 'then', hostname: 'h' }));
      const lock = await acquireLock(dir, { command: 'bootstrap' });
      await lock.release();
    } finally {
      exporter.kill();
    }
  });

  it('tells a recycled pid by its start tick, whatever the wall clock did (a clock stepped after the lock was taken)', async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      await new Promise((r) => setTimeout(r, 100));
      const ticks = processStartTicks(holder.pid!)!;
      expect(ticks).to.be.a('number');
      await fs.mkdir(dir, { recursive: true });
      // Written by another process that had this pid before (another start tick): stale.
      await fs.writeFile(
        join(dir, 'flexnode.lock'),
        JSON.stringify({ pid: holder.pid, command: 'bootstrap', startedAt: 'then', hostname: 'h', startTicks: ticks - 1 }),
      );
      const lock = await acquireLock(dir, { command: 'bootstrap' });
      expect(lock.info.startTicks).to.equal(processStartTicks(process.pid));
      await lock.release();
      // Written by this very process, with a wall clock an hour off: it holds the lock.
      await fs.mkdir(dir, { recursive: true });
      const hourAhead = new Date(Date.now() + 3_600_000).toISOString();
      await fs.writeFile(
        join(dir, 'flexnode.lock'),
        JSON.stringify({ pid: holder.pid, command: 'agent', startedAt: hourAhead, hostname: 'h', startTicks: ticks }),
      );
      const thrown = await acquireLock(dir, { command: 'status' }).catch((e: Error) => e);
      expect(thrown).to.include({ code: 'LOCKED' });
    } finally {
      holder.kill();
    }
  });

  it('refuses when a live node process holds it', async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      await fs.mkdir(dir, { recursive: true });
      await fs.writeFile(join(dir, 'flexnode.lock'), JSON.stringify({ pid: holder.pid, command: 'agent', startedAt: 'then', hostname: 'h' }));
      let thrown: unknown;
      await acquireLock(dir, { command: 'bootstrap' }).catch((e) => (thrown = e));
      expect((thrown as Error).message)
        .to.contain(`pid ${holder.pid}`)
        .and.contain('agent');
    } finally {
      holder.kill();
    }
  });

  it('release removes the lock only if it is still ours', async () => {
    const lock = await acquireLock(dir, { command: 'bootstrap' });
    const other = JSON.stringify({ pid: 1, command: 'agent', startedAt: 'x', hostname: 'h' });
    await fs.writeFile(join(dir, 'flexnode.lock'), other);
    await lock.release();
    expect(await fs.readFile(join(dir, 'flexnode.lock'), 'utf8')).to.equal(other);
  });
});
