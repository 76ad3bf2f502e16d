import { expect } from 'chai';
import { ChecksumError } from '@flexnode/sdk';
import { createStep, runStepCycle } from '@flexnode/sdk/testing';
import { cniPluginsUrl } from './artifact.js';
import { cniPlugins } from './steps.js';
import { cniFixture } from './fixtures.test.helpers.js';

describe('cni.plugins', () => {
  it('provides cni-plugins', () => {
    expect(cniPlugins.provides).to.deep.equal(['cni-plugins']);
  });

  it('unpacks the plugins into /opt/cni/bin, idempotently, and uninstall restores the machine', async () => {
    const { host, config } = cniFixture();
    const report = await runStepCycle(cniPlugins, { host, config });
    expect(report.initial['cni.plugins']!.status).to.equal('missing');
    const installed = Object.keys(report.installed.files).filter((p) => p.startsWith('/opt/'));
    expect(installed).to.deep.equal(['/opt/cni/bin/bridge', '/opt/cni/bin/host-local', '/opt/cni/bin/loopback', '/opt/cni/bin/portmap']);
    expect(report.installed.files['/opt/cni/bin/bridge']!.mode).to.equal(0o755);
    // Journaled per file and per directory: nothing of /opt is left.
    expect([...host.dirs].filter((d) => d.startsWith('/opt'))).to.deep.equal([]);
  });

  it('installs into paths.cni.binDir and restores a plugin that was there before', async () => {
    const { host, config } = cniFixture({ config: { paths: { cni: { binDir: '/usr/libexec/cni' } } } });
    host.seedFile('/usr/libexec/cni/bridge', 'older bridge', 0o755);
    await runStepCycle(cniPlugins, { host, config });
    expect(host.files.get('/usr/libexec/cni/bridge')!.content.toString()).to.equal('older bridge');
  });

  it('reports a modified plugin as drift, without downloading, and heals it', async () => {
    const { host, config } = cniFixture();
    const step = createStep(cniPlugins, host, { config });
    await step.install();
    host.files.get('/opt/cni/bin/portmap')!.content = Buffer.from('changed');
    const before = host.ops.length;
    const result = await step.check();
    expect(result.status === 'drifted' && result.reason).to.contain('/opt/cni/bin/portmap');
    expect(host.ops.length).to.equal(before);
    await step.install();
    expect((await step.check()).status).to.equal('ok');
  });

  it('fails on a corrupted tarball before unpacking, naming the artifact and both checksums', async () => {
    const { host, config, sha } = cniFixture();
    const bad = host.addArtifact(cniPluginsUrl('1.5.1', 'amd64'), 'corrupted', { bridge: 'evil' });
    let error: unknown;
    await createStep(cniPlugins, host, { config })
      .install()
      .catch((e) => (error = e));
    expect(error).to.be.instanceOf(ChecksumError);
    expect((error as Error).message)
      .to.contain('cni-plugins 1.5.1 (amd64)')
      .and.contain(sha)
      .and.contain(bad);
    expect(host.ops.map((o) => o.op)).to.deep.equal(['download']);
  });

  it('installs the version and checksum the config overrides, and a version change is drift', async () => {
    const { host, config } = cniFixture();
    await createStep(cniPlugins, host, { config }).install();
    const sum = host.addArtifact(cniPluginsUrl('1.6.0', 'amd64'), 'tarball 1.6.0', {
      bridge: 'b16',
      'host-local': 'h16',
      loopback: 'l16',
      portmap: 'p16',
    });
    const newer = { ...config, cni: { ...config.cni, version: '1.6.0', sha256: sum } };
    const step = createStep(cniPlugins, host, { config: newer });
    const result = await step.check();
    expect(result.status === 'drifted' && result.reason).to.contain('cni-plugins 1.5.1 (amd64) is installed');
    await step.install();
    expect((await step.check()).status).to.equal('ok');
    expect(host.files.get('/opt/cni/bin/bridge')!.content.toString()).to.equal('b16');
  });

  it('refuses a tarball without the plugins the node needs', async () => {
    const { host, config } = cniFixture();
    const sum = host.addArtifact(cniPluginsUrl('1.5.1', 'amd64'), 'partial', { bridge: 'x' });
    let error: unknown;
    await createStep(cniPlugins, host, { config: { ...config, cni: { ...config.cni, sha256: sum } } })
      .install()
      .catch((e) => (error = e));
    expect((error as Error).message).to.contain('lacks loopback, host-local, portmap');
    expect(host.files.has('/opt/cni/bin/bridge')).to.equal(false);
  });
});
