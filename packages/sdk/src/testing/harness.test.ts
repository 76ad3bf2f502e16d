import { expect } from 'chai';
import { ChecksumError, isFlexnodeError } from '../errors.js';
import { defineStep, missing, ok, type AnyStepDefinition } from '../step.js';
import { Tokens } from '../tokens.js';
import { CycleAssertionError, runStepCycle } from './harness.js';
import { MemoryHost } from './memory-host.js';
import { testConfig } from './test-config.js';

const MOTD = '/etc/motd';

/** A step writing /etc/motd, with knobs to break the contract in one way each. */
function motdStep(bug: 'none' | 'check-writes' | 'not-idempotent' | 'leaky-uninstall' = 'none'): AnyStepDefinition {
  return defineStep({
    id: 'test.motd',
    title: 'motd',
    inject: { host: Tokens.Host },
    create: ({ host }) => ({
      async check() {
        if (bug === 'check-writes') await host.files.write('/tmp/probe', 'x');
        const text = await host.files.readText(MOTD);
        return text?.startsWith('flexnode') ? ok() : missing('motd not set');
      },
      async install() {
        const previous = bug === 'not-idempotent' ? ((await host.files.readText(MOTD)) ?? '') : '';
        await host.files.write(MOTD, `flexnode node\n${previous}`);
      },
      async uninstall() {
        if (bug !== 'leaky-uninstall') await host.changes.revert();
      },
    }),
  });
}

describe('@flexnode/sdk/testing: runStepCycle', () => {
  it('passes a step that keeps the contract, and uninstall restores what was there', async () => {
    const host = new MemoryHost().seedFile(MOTD, 'welcome\n', 0o640);
    const report = await runStepCycle(motdStep(), { config: testConfig(), host });
    expect(report.initial['test.motd']).to.deep.equal({ status: 'missing', reason: 'motd not set' });
    expect(report.installOps.map((o) => `${o.op} ${o.target}`)).to.deep.equal(['write /etc/motd']);
    expect(host.files.get(MOTD)?.content.toString()).to.equal('welcome\n');
    expect(host.files.get(MOTD)?.mode).to.equal(0o640);
  });

  it('fails a check that changes the machine', async () => {
    await expectCycleError(motdStep('check-writes'), /check changed the machine: mkdir \/tmp, write \/tmp\/probe/);
  });

  it('fails an install that changes an installed machine again', async () => {
    await expectCycleError(motdStep('not-idempotent'), /install on an installed machine changed it: write \/etc\/motd/);
  });

  it('fails an uninstall that leaves something behind', async () => {
    await expectCycleError(motdStep('leaky-uninstall'), /uninstall did not restore the machine: files/);
  });
});

describe('@flexnode/sdk: contract helpers', () => {
  it('defineStep refuses ids that are not dotted lowercase words', () => {
    expect(() =>
      defineStep({ id: 'Bad Id', title: 'x', create: () => ({ check: async () => ok(), install: async () => {}, uninstall: async () => {} }) }),
    ).to.throw(/dotted lowercase/);
  });

  it('recognises a FlexnodeError from another copy of the SDK by its brand, not instanceof', () => {
    const foreign = Object.assign(new Error('from another copy'), { [Symbol.for('flexnode.error')]: true, code: 'X' });
    expect(isFlexnodeError(foreign)).to.equal(true);
    expect(isFlexnodeError(new Error('plain'))).to.equal(false);
  });

  it('MemoryHost verifies a download against its pinned sha256 before returning it', async () => {
    const host = new MemoryHost();
    const sha = host.addArtifact('https://example.test/a.tgz', 'real bytes');
    const view = host.forStep('test.dl');
    const artifact = { name: 'a 1.0', url: 'https://example.test/a.tgz', mirrorPath: 'a/v1.0/a.tgz', sha256: sha };
    expect(await view.downloads.fetch(artifact)).to.match(/\/\.staging\/downloads\//);
    const wrong = { ...artifact, sha256: '0'.repeat(64) };
    const error = await view.downloads.fetch(wrong).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ChecksumError);
    expect((error as Error).message)
      .to.contain('a 1.0')
      .and.contain(sha)
      .and.contain('0'.repeat(64));
  });
});

async function expectCycleError(step: AnyStepDefinition, message: RegExp): Promise<void> {
  const error = await runStepCycle(step, { config: testConfig() }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).to.be.instanceOf(CycleAssertionError);
  expect((error as Error).message).to.match(message);
}
