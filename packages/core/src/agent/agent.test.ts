import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redactor } from '../logging/index.js';
import { fixture, PLUGIN, until, type Fixture } from './agent.test.helpers.js';
import { createAgentLogger } from './log.js';
import { Agent, type AgentOptions } from './loop.js';
import type { Notifier } from './sd-notify.js';
import { readAgentStatus, statusFilePath, type AgentStatus } from './status-file.js';

/** An agent in this process with a fast interval, a recording notifier and captured human log lines. */
function start(f: Fixture, options: Partial<AgentOptions> = {}) {
  const sent: Record<string, string | number>[] = [];
  const lines: string[] = [];
  const cycles: AgentStatus[] = [];
  const workerOut: string[] = [];
  const notifier: Notifier = { enabled: true, watchdogIntervalMs: 15, notify: async (fields) => void sent.push(fields) };
  const redactor = new Redactor();
  const logger = createAgentLogger({
    logDir: join(f.root, 'var/log/flexnode-test'),
    level: 'debug',
    redactor,
    human: { write: (l) => lines.push(l) },
    priorities: false,
  });
  const agent = new Agent({
    configPath: f.configPath,
    root: f.root,
    sources: f.sources,
    only: ['t.base', 't.dep', 't.other', 't.flaky'],
    intervalMs: 20,
    signals: false,
    notifier,
    logger,
    onCycle: (s) => cycles.push(structuredClone(s)),
    workerStderr: { write: (chunk) => workerOut.push(chunk) },
    ...options,
  });
  const done = agent.run();
  return { agent, done, sent, lines, cycles, workerOut };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const status = async (f: Fixture) => JSON.parse(await readFile(statusFilePath(f.root), 'utf8')) as AgentStatus;

describe('flexnode agent: the loop (in process, 20 ms interval, real Host under a temp root)', function () {
  this.timeout(30_000);
  let f: Fixture;
  beforeEach(async () => (f = await fixture()));
  afterEach(() => f.cleanup());

  it('bootstraps, sends READY with a STATUS, feeds the watchdog, writes a 0644 status file and stops cleanly', async () => {
    const a = start(f);
    await until(() => a.sent.some((m) => m.READY === 1), 5_000, 'READY');
    expect(await f.read('/etc/t/base')).to.equal('base\n');
    const ready = a.sent.find((m) => m.READY === 1)!;
    expect(ready.STATUS).to.match(/^healthy: 4 step\(s\) ok/);
    await until(() => a.cycles.length >= 3, 5_000, 'three cycles');
    await until(() => a.sent.some((m) => m.WATCHDOG === 1), 2_000, 'a watchdog ping');
    a.agent.stop();
    expect(await a.done).to.equal(0);
    expect(a.sent.at(-1)).to.include({ STOPPING: 1 });
    const s = await status(f);
    expect(s).to.include({ version: 1, pid: process.pid, ready: true, healthy: true, phase: 'stopping' });
    expect(Object.keys(s.steps).sort()).to.deep.equal(['t.base', 't.dep', 't.flaky', 't.other']);
    expect(s.steps['t.base']).to.include({ state: 'ok', consecutiveFailures: 0 });
    expect((await stat(statusFilePath(f.root))).mode & 0o777).to.equal(0o644);
    // Nothing reinstalled while healthy: one install per step, all in one worker process (the first bootstrap).
    expect((await f.installs()).sort()).to.deep.equal(['t.base', 't.dep', 't.flaky', 't.other']);
    const pids = new Set(await f.installPids());
    expect(pids.size).to.equal(1);
    expect(pids.has(process.pid), 'installed by a worker, not by the agent').to.equal(false);
  });

  it('heals only the drifted step (and checks its dependents), logging the drift as a JSON line', async () => {
    const a = start(f);
    await until(() => a.sent.some((m) => m.READY === 1), 5_000, 'READY');
    const before = (await f.installs()).length;
    await writeFile(join(f.root, 'etc/t/base'), 'edited by hand\n');
    await until(async () => (await f.read('/etc/t/base')) === 'base\n', 5_000, 'the heal');
    const after = a.cycles.length;
    await until(() => a.cycles.length >= after + 2, 5_000, 'two more cycles');
    a.agent.stop();
    await a.done;
    // t.dep depends on t.base: it was checked (ok) but not reinstalled; t.other and t.flaky were not touched.
    expect((await f.installs()).slice(before)).to.deep.equal(['t.base']);
    expect((await f.installPids()).at(-1)).to.not.equal(process.pid);
    const log = (await readFile(join(f.root, 'var/log/flexnode-test/flexnode.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const drift = log.find((l) => l.msg === 'drift');
    expect(drift).to.include({ step: 't.base', status: 'drifted', reason: '/etc/t/base differs', level: 40 });
    expect(log.find((l) => l.msg === 'healed')).to.include({ step: 't.base', was: 'drifted' });
    expect(a.lines.some((l) => l.startsWith('warn: drift step=t.base status=drifted'))).to.equal(true);
  });

  it('a failing step backs off, is reported failing after N attempts and is not hammered; the others stay healthy', async () => {
    await f.failing('t.flaky');
    const a = start(f, { policy: { maxAttempts: 3, baseDelayMs: 60, maxDelayMs: 1_000, slowRetryMs: 60_000 } });
    await until(() => a.sent.some((m) => m.READY === 1), 5_000, 'READY');
    // The failure stops the bootstrap from starting more steps (t.dep waits for the next cycle's heal).
    expect(a.sent.find((m) => m.READY === 1)!.STATUS).to.match(/^NOT healthy: .*t\.flaky error/);
    await until(async () => (await status(f)).steps['t.flaky']?.state === 'failing', 5_000, 'failing');
    const attempts = async () => (await f.installs()).filter((i) => i === 't.flaky').length;
    expect(await attempts()).to.equal(3);
    const cyclesBefore = a.cycles.length;
    await until(() => a.cycles.length >= cyclesBefore + 15, 5_000, '15 more cycles');
    expect(await attempts(), 'no attempt while in the slow-retry window').to.equal(3);
    a.agent.stop();
    await a.done;
    const s = await status(f);
    expect(s.healthy).to.equal(false);
    expect(s.steps['t.flaky']).to.include({ state: 'failing', consecutiveFailures: 3 });
    expect(s.steps['t.flaky']!.lastError).to.equal('t.flaky is broken (token [REDACTED])');
    for (const id of ['t.base', 't.dep', 't.other']) expect(s.steps[id]!.state, id).to.equal('ok');
    // The secret is in no file the agent wrote.
    expect(await readFile(statusFilePath(f.root), 'utf8')).to.not.include('s3cr3t-value-never-logged');
    expect(await readFile(join(f.root, 'var/log/flexnode-test/flexnode.log'), 'utf8')).to.not.include('s3cr3t-value-never-logged');
    expect(a.lines.join('')).to.not.include('s3cr3t-value-never-logged');
    expect(a.workerOut.join('')).to.not.include('s3cr3t-value-never-logged');
    // Three in a row, spaced by the backoff: 60 ms then 120 ms at least.
    const view = await readAgentStatus(f.root);
    expect(view, 'own pid: not reported as a running agent').to.include({ running: false, fresh: false });
  });

  const withKube = { only: ['t.base', 't.dep', 't.other', 't.flaky', 't.kube'] };

  it('a changed pin is an upgrade, not a heal: without agent.autoUpgrade it is reported and nothing is healed in place', async () => {
    const a = start(f, withKube);
    await until(() => a.sent.some((m) => m.READY === 1), 5_000, 'READY');
    await f.writeConfig({ pluginConfig: { [PLUGIN]: { version: 'v2' } } });
    a.agent.requestReload();
    await until(async () => (await status(f)).upgrade?.pending !== undefined, 5_000, 'the pending upgrade');
    const cycles = a.cycles.length;
    await until(() => a.cycles.length >= cycles + 3, 5_000, 'three more cycles');
    a.agent.stop();
    await a.done;
    expect(await f.read('/etc/t/kube'), 'not healed in place').to.equal('kube plain\n');
    expect((await status(f)).upgrade).to.deep.equal({ pending: 'Kubernetes plain to v2 (kubernetes.version)' });
    expect(await f.installs()).to.not.include('maintenance.begin');
    expect(a.lines.some((l) => /upgrade pending: not healed in place/.test(l))).to.equal(true);
  });

  it('with agent.autoUpgrade the agent upgrades through the upgrade path in a worker: node taken out, swapped, Ready, back', async () => {
    const a = start(f, withKube);
    await until(() => a.sent.some((m) => m.READY === 1), 5_000, 'READY');
    await f.writeConfig({ agent: { logLevel: 'debug', logDir: '/var/log/flexnode-test', autoUpgrade: true }, pluginConfig: { [PLUGIN]: { version: 'v2' } } });
    a.agent.requestReload();
    await until(async () => (await status(f)).upgrade?.last !== undefined, 10_000, 'the upgrade');
    const cycles = a.cycles.length;
    await until(() => a.cycles.length >= cycles + 2, 5_000, 'two more cycles');
    a.agent.stop();
    await a.done;
    expect(await f.read('/etc/t/kube')).to.equal('kube v2\n');
    const installs = await f.installs();
    expect(installs.slice(installs.indexOf('maintenance.begin'))).to.deep.equal(['maintenance.begin', 't.kube', 'maintenance.ready-v2', 'maintenance.end']);
    const s = await status(f);
    expect(s.upgrade?.last).to.equal('Kubernetes plain to v2 (kubernetes.version)');
    expect(s.healthy).to.equal(true);
    expect(existsSync(join(f.root, 'var/lib/flexnode/upgrade')), 'the transaction is over').to.equal(false);
  });

  it('a worker that dies in the middle of a heal fails that heal with the tail of its stderr; the agent keeps going', async () => {
    const a = start(f, { policy: { maxAttempts: 5, baseDelayMs: 20, maxDelayMs: 40, slowRetryMs: 60_000 } });
    await until(() => a.sent.some((m) => m.READY === 1), 5_000, 'READY');
    await f.crashing('t.other');
    await writeFile(join(f.root, 'etc/t/other'), 'edited\n');
    await until(async () => ((await status(f)).steps['t.other']?.consecutiveFailures ?? 0) >= 1, 5_000, 'a failed heal');
    const other = (await status(f)).steps['t.other']!;
    expect(other.state).to.not.equal('ok');
    expect(other.lastError).to.match(/worker \(pid \d+\) exited with code 70 without a report: .*test plugin: t\.other brings its process down/);
    // Another drift meanwhile is healed: the agent carries on.
    await writeFile(join(f.root, 'etc/t/base'), 'edited\n');
    await until(async () => (await f.read('/etc/t/base')) === 'base\n', 5_000, 't.base healed');
    await f.crashing('t.other', false);
    await until(async () => (await f.read('/etc/t/other')) === 'other plain\n', 5_000, 't.other healed once the crash is gone');
    await until(async () => (await status(f)).healthy, 5_000, 'healthy');
    a.agent.stop();
    expect(await a.done).to.equal(0);
    expect(
      a.lines.some((l) => /^error: heal failed: backing off step=t\.other .*exited with code 70/.test(l)),
      a.lines.join(''),
    ).to.equal(true);
  });

  it('reloads the config on request: a valid one takes effect, an invalid one is logged and the old one kept', async () => {
    const a = start(f);
    await until(() => a.sent.some((m) => m.READY === 1), 5_000, 'READY');
    expect(await f.read('/etc/t/other')).to.equal('other plain\n');
    await f.writeConfig({ pluginConfig: { '@test/agent-plugin': { flavour: 'spicy' } } });
    a.agent.requestReload();
    await until(async () => (await f.read('/etc/t/other')) === 'other spicy\n', 5_000, 'the new config to be applied');
    await writeFile(f.configPath, '{ "azure": ');
    a.agent.requestReload();
    await until(() => a.lines.some((l) => l.includes('config reload failed; keeping the previous config')), 5_000, 'the reload error');
    // Still running with the previous (spicy) config: a drift is healed to it.
    await writeFile(join(f.root, 'etc/t/other'), 'edited\n');
    await until(async () => (await f.read('/etc/t/other')) === 'other spicy\n', 5_000, 'a heal with the kept config');
    a.agent.stop();
    expect(await a.done).to.equal(0);
  });

  it('skips a cycle while another run holds the lock, and says so in the status file', async () => {
    const a = start(f);
    await until(() => a.sent.some((m) => m.READY === 1), 5_000, 'READY');
    const { acquireLock } = await import('../state/index.js');
    // Wait for the gap between two cycles, then hold the lock like `flexnode bootstrap` by hand would.
    const lock = await (async () => {
      for (;;) {
        try {
          return await acquireLock(join(f.root, 'run/flexnode'), { command: 'bootstrap' });
        } catch {
          await new Promise((r) => setTimeout(r, 2));
        }
      }
    })();
    await until(async () => Boolean((await status(f)).lastCycleSkipped), 5_000, 'a skipped cycle');
    expect((await status(f)).lastCycleSkipped).to.match(/another flexnode run holds the lock/);
    await lock.release();
    await until(async () => !(await status(f)).lastCycleSkipped, 5_000, 'a cycle again');
    a.agent.stop();
    await a.done;
  });
});

describe('flexnode agent: SIGTERM in the middle of a step (child process)', function () {
  this.timeout(60_000);
  let f: Fixture;
  const children: ChildProcess[] = [];
  beforeEach(async () => (f = await fixture()));
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await f.cleanup();
  });

  const script = fileURLToPath(new URL('./agent.test.child.js', import.meta.url));
  const runChild = (env: Record<string, string>) => {
    const child = spawn(process.execPath, [script, f.configPath, f.root, JSON.stringify(f.sources)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    return { child, exit, stderr: () => stderr };
  };

  it('finishes the step in progress, starts no other, exits 0; the journal is consistent and the next start converges', async () => {
    const first = runChild({ AGENT_TEST_SLOW_MS: '1500' });
    await until(() => existsSync(join(f.root, 'etc/t/slow.begin')), 15_000, 't.slow to begin');
    first.child.kill('SIGTERM');
    expect(await first.exit, first.stderr()).to.equal(0);
    expect(await f.read('/etc/t/slow'), 'the step in progress finished').to.equal('slow\n');
    expect(await f.read('/etc/t/after'), 'no step started after SIGTERM').to.equal(undefined);
    const journal = JSON.parse(await readFile(join(f.root, 'var/lib/flexnode/journal.json'), 'utf8'));
    expect(journal.steps['t.slow'].status).to.equal('installed');
    expect(journal.steps['t.after']).to.equal(undefined);
    expect(existsSync(join(f.root, 'run/flexnode/flexnode.lock')), 'lock released').to.equal(false);
    expect(first.stderr()).to.match(/stopping after the step in progress reason=SIGTERM/);

    const second = runChild({ AGENT_TEST_SLOW_MS: '0', AGENT_TEST_MAX_CYCLES: '1' });
    expect(await second.exit, second.stderr()).to.equal(0);
    expect(await f.read('/etc/t/after')).to.equal('after\n');
    expect(await f.installs()).to.deep.equal(['t.slow', 't.after'], 't.slow was not installed again');
    const journal2 = JSON.parse(await readFile(join(f.root, 'var/lib/flexnode/journal.json'), 'utf8'));
    expect(journal2.steps['t.after'].status).to.equal('installed');
  });

  it('SIGTERM during a heal in the worker: the worker finishes its step, then both exit; nothing is left running', async () => {
    const c = runChild({ AGENT_TEST_SLOW_MS: '0' });
    await until(async () => (await f.read('/etc/t/after')) === 'after\n', 15_000, 'bootstrap');
    expect((await f.installPids())[0], 'the first bootstrap ran in a worker').to.not.equal(c.child.pid);
    // From now on t.slow takes 1.5 s to install: drift it and stop the agent while its heal runs.
    await writeFile(join(f.root, 'test-slow-ms'), '1500');
    await rm(join(f.root, 'etc/t/slow.begin'));
    await writeFile(join(f.root, 'etc/t/slow'), 'edited\n');
    await until(() => existsSync(join(f.root, 'etc/t/slow.begin')), 10_000, 'the heal of t.slow to begin');
    const healPid = (await f.installPids()).at(-1)!;
    expect(healPid).to.not.equal(c.child.pid);
    expect(alive(healPid)).to.equal(true);
    c.child.kill('SIGTERM');
    expect(await c.exit, c.stderr()).to.equal(0);
    expect(await f.read('/etc/t/slow'), 'the heal in progress finished').to.equal('slow\n');
    expect(alive(healPid), 'the worker is gone').to.equal(false);
    expect(existsSync(join(f.root, 'run/flexnode/flexnode.lock')), 'lock released').to.equal(false);
    expect(c.stderr()).to.match(/stopping after the step in progress reason=SIGTERM/);
    const journal = JSON.parse(await readFile(join(f.root, 'var/lib/flexnode/journal.json'), 'utf8'));
    expect(journal.steps['t.slow'].status).to.equal('installed');
  });

  it("a heal's memory is the worker's: the agent's peak RSS stays far below what the install allocated", async () => {
    const c = runChild({ AGENT_TEST_SLOW_MS: '0' });
    await until(async () => (await f.read('/etc/t/after')) === 'after\n', 15_000, 'bootstrap');
    await f.big('t.slow'); // its install now allocates and writes 256 MB
    await writeFile(join(f.root, 'etc/t/slow'), 'edited\n');
    await until(async () => (await f.installs()).length >= 3 && (await f.read('/etc/t/slow')) === 'slow\n', 15_000, 'the heal');
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(await readFile(`/proc/${c.child.pid}/status`, 'utf8'))![1]);
    expect(peakKb / 1024, 'agent peak RSS in MB').to.be.below(200);
    c.child.kill('SIGTERM');
    expect(await c.exit).to.equal(0);
  });

  it('SIGHUP reloads the config in a real process', async () => {
    const c = runChild({ AGENT_TEST_SLOW_MS: '0' });
    await until(async () => (await f.read('/etc/t/after')) === 'after\n', 15_000, 'bootstrap');
    await f.writeConfig({ agent: { logLevel: 'warn', logDir: '/var/log/flexnode-test' } });
    c.child.kill('SIGHUP');
    await until(() => c.stderr().includes('reloading the config'), 10_000, 'the reload');
    // The new level applies: the info lines of the following cycles are gone.
    await new Promise((r) => setTimeout(r, 300));
    const tail = c.stderr().split('reloading the config')[1]!;
    expect(tail).to.not.match(/^info: (?!config reloaded)/m);
    await f.writeConfig({ agent: { logLevel: 'info', logDir: '/var/log/flexnode-test' } });
    c.child.kill('SIGHUP');
    await until(() => /config reloaded .*logLevel=info/.test(c.stderr()), 10_000, 'the second reload');
    c.child.kill('SIGTERM');
    expect(await c.exit).to.equal(0);
  });
});
