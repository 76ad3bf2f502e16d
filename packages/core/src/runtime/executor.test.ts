import { defineStep, instantiate, missing, ok, Tokens, type AnyStepDefinition } from '@flexnode/sdk';
import { afterOf } from '../plugins/normalize.js';
import { MemoryHost } from '@flexnode/sdk/testing';
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nullLogger } from '../logging/index.js';
import { Journal } from '../state/index.js';
import { runBootstrap, runPlan, runStatus, type ExecutorInput } from './executor.js';
import type { RunEvent } from './events.js';
import { runUninstall } from './uninstall.js';

/** A step that writes one file; `failOnce` makes its install throw after the write, the first time. */
function fileStep(id: string, path: string, content: string, after: string[] = [], failures = { left: 0 }): AnyStepDefinition {
  return defineStep({
    id,
    title: `write ${path}`,
    after,
    inject: { host: Tokens.Host },
    create: ({ host }) => ({
      check: async () => ((await host.files.readText(path)) === content ? ok() : missing(`${path} is not written`)),
      install: async () => {
        await host.files.write(path, content);
        if (failures.left > 0) {
          failures.left--;
          throw new Error(`simulated crash in ${id}`);
        }
      },
      uninstall: () => host.changes.revert(),
    }),
  });
}

describe('executor', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'flexnode-exec-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const input = (steps: AnyStepDefinition[], host: MemoryHost, events: RunEvent[] = []): ExecutorInput => {
    const instances = new Map(steps.map((s) => [s.id, instantiate(s, () => host.forStep(s.id))]));
    const dependencies = new Map(steps.map((s) => [s.id, afterOf(s)]));
    return {
      steps: steps.map((s) => ({ id: s.id, title: s.title, plugin: 'test' })),
      dependencies,
      resolveStep: (id) => instances.get(id)!,
      logger: nullLogger(),
      redact: (t) => t,
      listener: (e) => events.push(e),
    };
  };

  const steps = (failures = { left: 0 }) => [
    fileStep('t.one', '/etc/one', '1'),
    fileStep('t.two', '/etc/two', '2', ['t.one'], failures),
    fileStep('t.three', '/etc/three', '3', ['t.two']),
  ];

  it('installs in order, and a second bootstrap changes nothing', async () => {
    const host = new MemoryHost();
    const journal = await Journal.open(dir);
    const first = await runBootstrap({ ...input(steps(), host), journal });
    expect(first.ok).to.equal(true);
    expect(first.results.map((r) => r.outcome)).to.deep.equal(['installed', 'installed', 'installed']);
    expect(host.ops.filter((o) => o.op === 'write').map((o) => o.target)).to.deep.equal(['/etc/one', '/etc/two', '/etc/three']);
    const opsAfterFirst = host.ops.length;
    const second = await runBootstrap({ ...input(steps(), host), journal });
    expect(second.results.map((r) => r.outcome)).to.deep.equal(['unchanged', 'unchanged', 'unchanged']);
    expect(host.ops.length).to.equal(opsAfterFirst);
    expect(journal.get('t.two')?.status).to.equal('installed');
  });

  it('stops at a failing step, and the next run resumes where it stopped', async () => {
    const host = new MemoryHost();
    const journal = await Journal.open(dir);
    const failures = { left: 1 };
    const first = await runBootstrap({ ...input(steps(failures), host), journal });
    expect(first.ok).to.equal(false);
    expect(first.results.map((r) => r.outcome)).to.deep.equal(['installed', 'failed', 'skipped']);
    expect(first.results[1]!.error?.message).to.match(/simulated crash in t\.two/);
    expect((await Journal.open(dir)).get('t.two')?.status).to.equal('failed');

    const second = await runBootstrap({ ...input(steps(failures), host), journal: await Journal.open(dir) });
    expect(second.ok).to.equal(true);
    // t.two's file was written before the crash: the re-run finds it ok and only installs t.three.
    expect(second.results.map((r) => r.outcome)).to.deep.equal(['unchanged', 'unchanged', 'installed']);
  });

  it('fails a step whose install does not make its check ok', async () => {
    const liar = defineStep({
      id: 't.liar',
      title: 'liar',
      create: () => ({ check: async () => missing('never there'), install: async () => {}, uninstall: async () => {} }),
    });
    const report = await runBootstrap({ ...input([liar], new MemoryHost()), journal: await Journal.open(dir) });
    expect(report.results[0]!.error?.message).to.match(/install finished but the check still fails \(missing: never there\)/);
  });

  it('plans without changing anything', async () => {
    const host = new MemoryHost({ dryRun: true });
    const report = await runPlan({ ...input(steps(), host), planned: [] });
    expect(report.results.map((r) => r.outcome)).to.deep.equal(['planned', 'planned', 'planned']);
    expect(host.files.size).to.equal(0);
    expect(host.ops.map((o) => o.target)).to.include.members(['/etc/one', '/etc/two', '/etc/three']);
  });

  it('reports status read-only: unhealthy until installed', async () => {
    const host = new MemoryHost();
    const before = await runStatus(input(steps(), host));
    expect(before.ok).to.equal(false);
    expect(before.results.every((r) => r.outcome === 'unhealthy')).to.equal(true);
    expect(host.ops).to.have.length(0);
  });

  it('a check that never answers fails as CHECK_TIMEOUT, named, and the others are still reported', async () => {
    const host = new MemoryHost();
    const hung = defineStep({
      id: 't.hung',
      title: 'a check that never answers',
      provides: [],
      inject: {},
      create: () => ({ check: () => new Promise<never>(() => undefined), install: async () => undefined, uninstall: async () => undefined }),
    });
    const all = [fileStep('t.one', '/etc/one', '1'), hung];
    const started = Date.now();
    const report = await runStatus({ ...input(all, host), checkTimeoutMs: 100 });
    expect(Date.now() - started).to.be.below(2000);
    expect(report.ok).to.equal(false);
    const byId = Object.fromEntries(report.results.map((r) => [r.id, r]));
    expect(byId['t.hung']?.error).to.deep.include({ code: 'CHECK_TIMEOUT', message: 'the check of t.hung did not answer within 0.1 s' });
    expect(byId['t.one']?.outcome).to.equal('unhealthy');
    expect(byId['t.one']?.error).to.equal(undefined);

    // 0: no limit (the agent's own checks, whose watchdog restarts a stuck agent instead).
    const slow = defineStep({
      id: 't.slow',
      title: 'a check that answers late',
      provides: [],
      inject: {},
      create: () => ({ check: () => new Promise((r) => setTimeout(() => r(ok()), 300)), install: async () => undefined, uninstall: async () => undefined }),
    });
    expect((await runStatus({ ...input([slow], host), checkTimeoutMs: 100 })).results[0]?.error?.code).to.equal('CHECK_TIMEOUT');
    expect((await runStatus({ ...input([slow], host), checkTimeoutMs: 0 })).results[0]?.outcome).to.equal('healthy');
  });

  it('uninstalls in reverse order and empties the journal', async () => {
    const host = new MemoryHost();
    const journal = await Journal.open(dir);
    const exec = input(steps(), host);
    await runBootstrap({ ...exec, journal });
    // The MemoryHost journals changes itself; mirror them into the real journal the way the real Host does.
    const events: RunEvent[] = [];
    const result = await runUninstall({
      journal,
      instanceOf: (id) => exec.resolveStep(id),
      hostFor: (id) => host.forStep(id),
      titleOf: (id) => id,
      logger: nullLogger(),
      redact: (t) => t,
      listener: (e) => events.push(e),
    });
    expect(result.ok).to.equal(true);
    expect(result.results.map((r) => r.id)).to.deep.equal(['t.three', 't.two', 't.one']);
    expect(host.files.size).to.equal(0);
    expect(journal.entries()).to.have.length(0);
  });

  it('a step whose uninstall fails keeps what it depends on; the steps independent of it are still removed', async () => {
    const host = new MemoryHost();
    const journal = await Journal.open(dir);
    const all = [...steps(), fileStep('t.alone', '/etc/alone', 'a')];
    const exec = input(all, host);
    await runBootstrap({ ...exec, journal });
    const result = await runUninstall({
      journal,
      instanceOf: (id) =>
        id === 't.three'
          ? {
              ...exec.resolveStep(id),
              uninstall: async () => {
                throw new Error('drain refused');
              },
            }
          : exec.resolveStep(id),
      hostFor: (id) => host.forStep(id),
      titleOf: (id) => id,
      logger: nullLogger(),
      redact: (t) => t,
      dependenciesOf: (id) => afterOf(all.find((s) => s.id === id)!),
    });
    expect(result.ok).to.equal(false);
    expect(result.results.map((r) => `${r.id} ${r.outcome}`)).to.deep.equal(['t.three failed', 't.two skipped', 't.alone removed', 't.one skipped']);
    expect(result.results.find((r) => r.id === 't.one')!.notes).to.deep.equal(['kept: t.three, which depends on it, could not be removed']);
    expect([...host.files.keys()].sort()).to.deep.equal(['/etc/one', '/etc/three', '/etc/two']);
    expect(journal.entries().map(([id]) => id)).to.deep.equal(['t.one', 't.two', 't.three']);
  });

  describe('failures name the step, plugin and phase; plan fails where bootstrap would stop', () => {
    const throwingCheck = defineStep({
      id: 't.parse',
      title: 'a check that parses a missing file',
      inject: { host: Tokens.Host },
      create: ({ host }) => ({
        check: async () => JSON.parse((await host.files.readText('/etc/state.json')) as string) as never,
        install: async () => {},
        uninstall: async () => {},
      }),
    });
    const uncreatable = defineStep({
      id: 't.create',
      title: 'no factory',
      create: () => {
        throw new TypeError('boom in create');
      },
    });
    const failingPreflight = defineStep({
      id: 't.preflight',
      title: 'preflight',
      preflight: true,
      create: () => ({
        check: async () => missing('too little memory'),
        install: async () => {
          throw new Error('1 preflight check failed: memory');
        },
        uninstall: async () => {},
      }),
    });
    const needsCredential = defineStep({
      id: 't.azure',
      title: 'needs Azure to plan',
      create: () => ({
        check: async () => missing('not registered'),
        install: async () => {
          throw new Error('no Azure credential');
        },
        uninstall: async () => {},
      }),
    });
    // Steps are created when the executor resolves them (as core's container does), so a factory may throw there.
    const withPreflight = (steps: AnyStepDefinition[], host: MemoryHost, verbose = false): ExecutorInput => ({
      steps: steps.map((s) => ({ id: s.id, title: s.title, plugin: 'test', preflight: s.preflight === true })),
      dependencies: new Map(),
      resolveStep: (id) =>
        instantiate(
          steps.find((s) => s.id === id)!,
          () => host.forStep(id),
        ),
      logger: nullLogger(),
      redact: (t) => t,
      verbose,
    });

    it('a check that throws is a failure in phase check, with the error name, and the stack only when verbose', async () => {
      const host = new MemoryHost();
      const quiet = await runBootstrap({ ...withPreflight([throwingCheck], host), journal: await Journal.open(dir) });
      expect(quiet.results[0]).to.deep.include({ id: 't.parse', plugin: 'test', outcome: 'failed' });
      expect(quiet.results[0]!.error).to.deep.equal({ code: 'STEP_THREW', message: 'SyntaxError: "undefined" is not valid JSON', phase: 'check' });
      const verbose = await runStatus(withPreflight([throwingCheck], host, true));
      expect(verbose.results[0]!.error!.phase).to.equal('check');
      expect(verbose.results[0]!.error!.stack).to.match(/^SyntaxError: "undefined" is not valid JSON\n\s+at JSON\.parse/);
    });

    it('a factory that throws is a failure in phase create; a check that stays missing after install, in verify', async () => {
      const liar = defineStep({
        id: 't.liar',
        title: 'liar',
        create: () => ({ check: async () => missing('never there'), install: async () => {}, uninstall: async () => {} }),
      });
      const report = await runBootstrap({ ...withPreflight([uncreatable, liar], new MemoryHost()), journal: await Journal.open(dir) });
      const byId = Object.fromEntries(report.results.map((r) => [r.id, r.error]));
      expect(byId['t.create']).to.deep.include({ code: 'STEP_THREW', message: 'TypeError: boom in create', phase: 'create' });
      expect(byId['t.liar']).to.deep.include({ code: 'STEP_FAILED', phase: 'verify' });
    });

    it('plan: a check that throws, a step that cannot be created and a failing preflight fail the plan; a planning error does not', async () => {
      const host = new MemoryHost({ dryRun: true });
      const report = await runPlan({ ...withPreflight([failingPreflight, throwingCheck, uncreatable, needsCredential], host), planned: [] });
      const outcome = Object.fromEntries(report.results.map((r) => [r.id, `${r.outcome}${r.error ? ` in ${r.error.phase}` : ''}`]));
      expect(outcome).to.deep.equal({
        't.preflight': 'failed in install',
        't.parse': 'failed in check',
        't.create': 'failed in create',
        't.azure': 'planned in install',
      });
      expect(report.ok).to.equal(false);
      const fine = await runPlan({ ...withPreflight([needsCredential], host), planned: [] });
      expect(fine.ok).to.equal(true);
    });
  });
});
