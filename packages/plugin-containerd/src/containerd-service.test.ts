import { expect } from 'chai';
import { ContainerRuntime } from '@flexnode/sdk';
import { createStep, MemoryHost, runStepCycle, testConfig } from '@flexnode/sdk/testing';
import { containerdService } from './steps.js';
import { releaseFixture } from './fixtures.test.helpers.js';

const UNIT_PATH = '/etc/systemd/system/containerd.service';

describe('containerd.service', () => {
  it('provides container-runtime after the binaries and the config', () => {
    expect(containerdService.provides).to.deep.equal([ContainerRuntime]);
    expect(containerdService.after).to.include.members(['containerd.config', 'containerd.binaries', 'runc.binary']);
  });

  it('writes the unit, reloads, enables and starts it, idempotently; uninstall restores the machine', async () => {
    const { host, config } = releaseFixture();
    const report = await runStepCycle(containerdService, { host, config });
    expect(report.initial['containerd.service']!.status).to.equal('missing');
    const ops = report.installOps.map((o) => `${o.op} ${o.target}`.trim());
    expect(ops.indexOf(`write ${UNIT_PATH}`)).to.be.lessThan(ops.indexOf('daemon-reload'));
    expect(ops).to.include.members(['enable containerd.service', 'start containerd.service']);
    // (report.installed.units shares its unit objects with the live host, so it is not asserted here.)
    expect(host.units.get('containerd.service')).to.deep.equal({ enabled: false, active: false });
  });

  it('writes the upstream unit shape', async () => {
    const host = new MemoryHost().onExec('ctr', () => ({ exitCode: 0, stdout: '', stderr: '' }));
    await createStep(containerdService, host, { config: testConfig() }).install();
    const unit = host.files.get(UNIT_PATH)!.content.toString();
    for (const line of [
      'Type=notify',
      'Delegate=yes',
      'KillMode=process',
      'Restart=always',
      'OOMScoreAdjust=-999',
      'LimitNOFILE=infinity',
      'ExecStartPre=-/sbin/modprobe overlay',
      'ExecStart=/usr/bin/containerd',
      'WantedBy=multi-user.target',
    ]) {
      expect(unit.split('\n')).to.include(line);
    }
  });

  it('reports a stopped service, a service not answering on its socket and an edited unit as drift', async () => {
    const { host, config } = releaseFixture();
    const step = createStep(containerdService, host, { config });
    await step.install();
    expect((await step.check()).status).to.equal('ok');

    host.units.get('containerd.service')!.active = false;
    expect(await step.check()).to.deep.equal({ status: 'drifted', reason: 'containerd.service is not active' });
    await step.install();

    host.onExec('ctr', () => ({ exitCode: 1, stdout: '', stderr: 'connection refused' }));
    const silent = await step.check();
    expect(silent.status === 'drifted' && silent.reason).to.contain('does not answer on /run/containerd/containerd.sock: connection refused');

    host.files.get(UNIT_PATH)!.content = Buffer.from('[Service]\nExecStart=/bin/true\n');
    expect((await step.check()).status).to.equal('drifted');
  });

  it('runs the socket probe read-only', async () => {
    const { host, config } = releaseFixture();
    const step = createStep(containerdService, host, { config });
    await step.install();
    const before = host.ops.length;
    await step.check();
    expect(host.ops.length).to.equal(before);
  });

  it('restarts containerd when its config changed after it started', async () => {
    const { host, config } = releaseFixture();
    const step = createStep(containerdService, host, { config });
    host.seedFile('/etc/containerd/config.toml', 'version = 2\n');
    await step.install();
    host.files.get('/etc/containerd/config.toml')!.content = Buffer.from('version = 2\n# changed\n');
    const result = await step.check();
    expect(result.status === 'drifted' && result.reason).to.contain('needs a restart');
    const before = host.ops.length;
    await step.install();
    expect(host.ops.slice(before).map((o) => o.op))
      .to.include('restart')
      .and.not.include('start');
    expect((await step.check()).status).to.equal('ok');
  });

  it("gives containerd the config's proxy (0600, loopback exempted) and restarts it when the proxy changes", async () => {
    const { host, config } = releaseFixture();
    const proxied = { ...config, proxy: { https: 'http://user:s3cret@proxy.example:3128', noProxy: '.corp.example' } };
    await createStep(containerdService, host, { config: proxied }).install();
    const unit = host.files.get(UNIT_PATH)!.content.toString();
    expect(unit.split('\n')).to.include('EnvironmentFile=/etc/containerd/flexnode-proxy.env');
    expect(unit).not.to.include('s3cret');
    const env = host.files.get('/etc/containerd/flexnode-proxy.env')!;
    expect(env.mode & 0o777).to.equal(0o600);
    expect(env.content.toString())
      .to.include('HTTPS_PROXY="http://user:s3cret@proxy.example:3128"\n')
      .and.include('NO_PROXY=".corp.example,127.0.0.1,localhost,::1"\n');
    // The proxy changed (or went): drift, and containerd restarted with the new environment.
    const step = createStep(containerdService, host, { config });
    const result = await step.check();
    expect(result.status === 'drifted' && result.reason).to.contain("differs from the config's proxy");
    const before = host.ops.length;
    await step.install();
    expect(host.ops.slice(before).map((o) => o.op)).to.include('restart');
    expect(host.files.get('/etc/containerd/flexnode-proxy.env')!.content.toString()).not.to.include('PROXY=');
    expect((await step.check()).status).to.equal('ok');
  });

  it('restarts a containerd that a package had already started, and leaves it running on uninstall', async () => {
    const { host, config } = releaseFixture();
    host.units.set('containerd.service', { enabled: true, active: true });
    const report = await runStepCycle(containerdService, { host, config });
    expect(report.installOps.map((o) => o.op)).to.include('restart');
    expect(host.units.get('containerd.service')).to.deep.equal({ enabled: true, active: true });
  });

  it('a plan without a service manager (a sandbox root) says the unit would be enabled, without a warning or a start', async () => {
    const { host, config } = releaseFixture({ systemd: false, dryRun: true });
    await createStep(containerdService, host, { config }).install();
    expect(host.ops.map((o) => o.op)).to.not.include('start');
    expect(host.logLines.filter((l) => l.level === 'warn')).to.deep.equal([]);
    expect(host.logLines.map((l) => l.message)).to.include(
      'no service manager under this root: containerd.service would be enabled, to start when the tree boots',
    );
  });

  it('without a service manager: writes and enables, and the check says what it did not verify', async () => {
    const { host, config } = releaseFixture({ systemd: false });
    const report = await runStepCycle(containerdService, { host, config });
    expect(report.installOps.map((o) => o.op)).to.not.include('start');
    const step = createStep(containerdService, host, { config });
    await step.install();
    const result = await step.check();
    expect(result.status).to.equal('ok');
    expect(result.status === 'ok' && result.detail).to.contain('no service manager is running');
  });
});
