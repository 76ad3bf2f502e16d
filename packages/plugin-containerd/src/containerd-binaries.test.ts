import { expect } from 'chai';
import { ChecksumError } from '@flexnode/sdk';
import { createStep, runStepCycle } from '@flexnode/sdk/testing';
import { containerdSpec } from './components.js';
import { containerdBinaries } from './steps.js';
import { releaseFixture, sha256 } from './fixtures.test.helpers.js';

describe('containerd.binaries', () => {
  it('copies bin/* of the tarball to /usr/bin, idempotently, and uninstall restores the machine', async () => {
    const { host, config, bins } = releaseFixture();
    host.seedFile('/usr/bin/ctr', 'distro ctr', 0o755);
    const report = await runStepCycle(containerdBinaries, { host, config });
    expect(report.initial['containerd.binaries']!.status).to.equal('missing');
    for (const [entry, content] of Object.entries(bins)) {
      const path = `/usr/bin/${entry.slice('bin/'.length)}`;
      expect(report.installed.files[path]).to.deep.equal({ sha256: await sha256(content), mode: 0o755, uid: 0, gid: 0 });
    }
    // Each file is journaled: the pre-existing ctr is back, the others are gone.
    expect(host.files.get('/usr/bin/ctr')!.content.toString()).to.equal('distro ctr');
    expect(host.files.has('/usr/bin/containerd')).to.equal(false);
  });

  it('checks each binary against the hashes recorded from the verified tarball, without downloading', async () => {
    const { host, config } = releaseFixture();
    const step = createStep(containerdBinaries, host, { config });
    await step.install();
    const before = host.ops.length;
    expect((await step.check()).status).to.equal('ok');
    host.files.get('/usr/bin/containerd-shim-runc-v2')!.content = Buffer.from('replaced');
    const result = await step.check();
    expect(result.status).to.equal('drifted');
    expect(result.status !== 'ok' && result.reason).to.contain('/usr/bin/containerd-shim-runc-v2');
    expect(host.ops.length).to.equal(before);
    await step.install();
    expect((await step.check()).status).to.equal('ok');
  });

  it('reports a version change in the config as drift and replaces the binaries', async () => {
    const { host, config } = releaseFixture();
    await createStep(containerdBinaries, host, { config }).install();
    const newer = host.addArtifact(containerdSpec.url('2.0.0', 'amd64'), 'tarball 2.0.0', {
      'bin/containerd': 'containerd 2.0.0',
      'bin/ctr': 'ctr 2.0.0',
    });
    const upgraded = { ...config, containerd: { version: '2.0.0', sha256: newer } };
    const step = createStep(containerdBinaries, host, { config: upgraded });
    const result = await step.check();
    expect(result.status === 'drifted' && result.reason)
      .to.contain('containerd 1.7.22 (amd64) is installed')
      .and.contain('2.0.0');
    await step.install();
    expect((await step.check()).status).to.equal('ok');
    expect(host.files.get('/usr/bin/containerd')!.content.toString()).to.equal('containerd 2.0.0');
    // The shim 2.0.0 no longer ships is removed, and uninstall still restores the pristine machine.
    expect(host.files.has('/usr/bin/containerd-shim-runc-v2')).to.equal(false);
    await step.uninstall();
    expect([...host.files.keys()].filter((p) => p.startsWith('/usr/'))).to.deep.equal([]);
  });

  it('fails on a corrupted tarball before unpacking, naming the artifact and both checksums', async () => {
    const { host, config, containerdSha } = releaseFixture();
    const bad = host.addArtifact(containerdSpec.url('1.7.22', 'amd64'), 'corrupted', { 'bin/containerd': 'evil' });
    let error: unknown;
    await createStep(containerdBinaries, host, { config })
      .install()
      .catch((e) => (error = e));
    expect(error).to.be.instanceOf(ChecksumError);
    expect((error as Error).message)
      .to.contain('containerd 1.7.22 (amd64)')
      .and.contain(containerdSha)
      .and.contain(bad);
    expect(host.ops.map((o) => o.op)).to.deep.equal(['download']);
    expect(host.files.has('/usr/bin/containerd')).to.equal(false);
  });

  it('refuses a tarball without bin/ files', async () => {
    const { host, config } = releaseFixture();
    const sum = host.addArtifact(containerdSpec.url('1.7.22', 'amd64'), 'odd layout', { containerd: 'x' });
    const odd = { ...config, containerd: { version: '1.7.22', sha256: sum } };
    let error: unknown;
    await createStep(containerdBinaries, host, { config: odd })
      .install()
      .catch((e) => (error = e));
    expect((error as Error).message).to.contain('no bin/ files');
  });
});
