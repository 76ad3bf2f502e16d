import { expect } from 'chai';
import { ChecksumError } from '@flexnode/sdk';
import { createStep, runStepCycle } from '@flexnode/sdk/testing';
import { runcSpec } from './components.js';
import { releaseFixture } from './fixtures.test.helpers.js';
import { runcBinary } from './steps.js';

describe('runc.binary', () => {
  it('installs /usr/bin/runc 0755, idempotently, and uninstall restores the machine', async () => {
    const { host, config, runcSha } = releaseFixture();
    const report = await runStepCycle(runcBinary, { host, config });
    expect(report.initial['runc.binary']!.status).to.equal('missing');
    expect(report.installed.files['/usr/bin/runc']).to.deep.equal({ sha256: runcSha, mode: 0o755, uid: 0, gid: 0 });
    expect(host.files.has('/usr/bin/runc')).to.equal(false);
  });

  it('restores a runc that was there before', async () => {
    const { host, config } = releaseFixture();
    host.seedFile('/usr/bin/runc', 'distro runc', 0o755);
    const report = await runStepCycle(runcBinary, { host, config });
    expect(report.initial['runc.binary']!.status).to.equal('drifted');
    expect(host.files.get('/usr/bin/runc')!.content.toString()).to.equal('distro runc');
  });

  it('reports a replaced binary as drift and heals it', async () => {
    const { host, config } = releaseFixture();
    const step = createStep(runcBinary, host, { config });
    await step.install();
    host.files.get('/usr/bin/runc')!.content = Buffer.from('tampered');
    const result = await step.check();
    expect(result.status).to.equal('drifted');
    expect(result.status !== 'ok' && result.reason).to.contain('runc 1.1.14 (amd64)');
    await step.install();
    expect((await step.check()).status).to.equal('ok');
  });

  it('fails on a corrupted artifact before writing anything, naming the artifact and both checksums', async () => {
    const { host, config, runcSha } = releaseFixture();
    const bad = host.addArtifact(runcSpec.url('1.1.14', 'amd64'), 'corrupted bytes');
    const step = createStep(runcBinary, host, { config });
    let error: unknown;
    await step.install().catch((e) => (error = e));
    expect(error).to.be.instanceOf(ChecksumError);
    const message = (error as Error).message;
    expect(message).to.contain('runc 1.1.14 (amd64)').and.contain(runcSha).and.contain(bad);
    expect(host.ops.map((o) => o.op)).to.deep.equal(['download']);
    expect(host.files.has('/usr/bin/runc')).to.equal(false);
  });

  it('installs the version and checksum the config overrides', async () => {
    const { host, config } = releaseFixture();
    const bytes = Buffer.from('runc 1.2.99');
    const sum = host.addArtifact(runcSpec.url('1.2.99', 'amd64'), bytes);
    const custom = { ...config, runc: { version: '1.2.99', sha256: sum } };
    await runStepCycle(runcBinary, { host, config: custom });
    expect(host.ops.find((o) => o.op === 'download')!.target).to.equal(runcSpec.url('1.2.99', 'amd64'));
  });

  it('in a dry run records the download and writes nothing', async () => {
    const { host, config } = releaseFixture({ dryRun: true });
    await createStep(runcBinary, host, { config }).install();
    expect(host.ops.map((o) => o.op)).to.deep.equal(['download']);
    expect(host.files.has('/usr/bin/runc')).to.equal(false);
  });
});
