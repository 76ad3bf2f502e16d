import { expect } from 'chai';
import { API_VERSION, ContainerRuntime, instantiate, isFlexnodeError } from '@flexnode/sdk';
import { createStep, MemoryHost, runStepCycle, testConfig } from '@flexnode/sdk/testing';
import { parse } from 'smol-toml';
import plugin, { crunConfig, crunPackages, crunService, Paths, STARTED_RECORD } from './plugin.js';

const config = testConfig({ containerd: { pauseImage: 'registry.k8s.io/pause:3.10' } });
const steps = [crunPackages, crunConfig, crunService];

/** A machine where `ctr version` answers (containerd runs). */
const machine = (options: { systemd?: boolean } = {}) => new MemoryHost(options).onExec('ctr', () => ({ exitCode: 0, stdout: 'Server: 1.6.20', stderr: '' }));

describe('@org/plugin-crun', () => {
  it('is a plugin of the current API whose every step, and its service, is the container-runtime capability', () => {
    expect(plugin.name).to.equal('@org/plugin-crun');
    expect(plugin.apiVersion).to.equal(API_VERSION);
    expect(plugin.steps.map((s) => s.id)).to.deep.equal(['crun.packages', 'crun.config', 'crun.service']);
    for (const step of plugin.steps) expect(step.provides).to.deep.equal([ContainerRuntime]);
    const service = plugin.services!.find((s) => s.capability === ContainerRuntime)!;
    expect(instantiate(service, () => undefined)).to.deep.equal({
      criEndpoint: 'unix:///run/containerd/containerd.sock',
      unit: 'containerd.service',
      cgroupDriver: 'systemd',
    });
  });

  it('installs the packages, writes a config running pods with crun, starts containerd; uninstall restores the machine', async () => {
    const host = machine();
    const report = await runStepCycle(steps, { host, config });
    expect(report.initial['crun.packages']).to.deep.equal({ status: 'missing', reason: 'packages not installed: containerd, crun' });
    expect(report.installOps.map((o) => `${o.op} ${o.target}`)).to.include.members([
      'apt-install containerd',
      'apt-install crun',
      `write ${Paths.config}`,
      'enable containerd.service',
      'start containerd.service',
    ]);
    expect(report.installed.packages).to.deep.equal(['containerd', 'crun']);
  });

  it("replaces the package's own config.toml, and uninstall puts it back", async () => {
    const host = machine().seedFile(Paths.config, '# the package default\n');
    const step = createStep(crunConfig, host, { config });
    expect((await step.check()).status).to.equal('drifted');
    await step.install();
    const doc = parse(host.files.get(Paths.config)!.content.toString()) as Record<string, any>;
    const cri = doc['plugins']['io.containerd.grpc.v1.cri'];
    expect(cri.containerd.default_runtime_name).to.equal('crun');
    expect(cri.containerd.runtimes.crun).to.deep.equal({
      runtime_type: 'io.containerd.runc.v2',
      options: { BinaryName: '/usr/bin/crun', SystemdCgroup: true },
    });
    expect(cri.sandbox_image).to.equal('registry.k8s.io/pause:3.10');
    expect(cri.cni).to.deep.equal({ bin_dir: '/opt/cni/bin', conf_dir: '/etc/cni/net.d' });
    expect(cri.restrict_oom_score_adj).to.equal(false);
    expect(doc['plugins']['io.containerd.internal.v1.opt']).to.deep.equal({ path: '/var/lib/containerd/opt' });
    expect(await step.check()).to.deep.equal({ status: 'ok', detail: 'runtime crun (/usr/bin/crun)' });
    await step.uninstall();
    expect(host.files.get(Paths.config)!.content.toString()).to.equal('# the package default\n');
  });

  it("takes the pod network's directories from the cni service", async () => {
    const host = machine();
    const cni = new Map<symbol, unknown>([[Symbol.for('flexnode.capability.cni'), { binDir: '/var/lib/cilium/bin', confDir: '/etc/cilium/net.d' }]]);
    await createStep(crunConfig, host, { config, services: cni }).install();
    const doc = parse(host.files.get(Paths.config)!.content.toString()) as Record<string, any>;
    expect(doc['plugins']['io.containerd.grpc.v1.cri'].cni).to.deep.equal({ bin_dir: '/var/lib/cilium/bin', conf_dir: '/etc/cilium/net.d' });
  });

  it('restarts containerd when the config changes, and reports a daemon that does not answer', async () => {
    const host = machine();
    host.packages.add('containerd').add('crun');
    await createStep(crunConfig, host, { config }).install();
    const service = createStep(crunService, host, { config });
    await service.install();
    expect((await service.check()).status).to.equal('ok');
    // Another sandbox image: the config changes, containerd still runs the old one.
    const other = testConfig({ containerd: { pauseImage: 'registry.k8s.io/pause:3.9' } });
    await createStep(crunConfig, host, { config: other }).install();
    const drift = await service.check();
    expect(drift.status === 'drifted' && drift.reason).to.contain('needs a restart');
    const before = host.ops.length;
    await service.install();
    expect(host.ops.slice(before).map((o) => `${o.op} ${o.target}`)).to.include('restart containerd.service');
    host.onExec('ctr', () => ({ exitCode: 1, stdout: '', stderr: 'connection refused' }));
    const down = await service.check();
    expect(down.status === 'drifted' && down.reason).to.equal('containerd does not answer on /run/containerd/containerd.sock: connection refused');
    await service.uninstall();
    expect(host.journal.get('crun.service')!.filter((c) => c.kind === 'custom' && c.type === STARTED_RECORD)).to.deep.equal([]);
  });

  it('without a service manager (a sandbox root), only enables containerd', async () => {
    const host = machine({ systemd: false });
    const service = createStep(crunService, host, { config });
    await service.install();
    expect(await service.check()).to.deep.equal({
      status: 'ok',
      detail: 'containerd.service enabled; no service manager is running, so its active state was not checked',
    });
    expect(host.units.get('containerd.service')).to.deep.equal({ enabled: true, active: false });
  });

  it("keeps pods' OOM scores at containerd's when told to (nodes without CAP_SYS_RESOURCE)", async () => {
    const host = machine();
    const restricted = testConfig({ pluginConfig: { '@org/plugin-crun': { restrictOOMScoreAdj: true } } });
    await createStep(crunConfig, host, { config: restricted }).install();
    const doc = parse(host.files.get(Paths.config)!.content.toString()) as Record<string, any>;
    expect(doc['plugins']['io.containerd.grpc.v1.cri'].restrict_oom_score_adj).to.equal(true);
    const wrong = testConfig({ pluginConfig: { '@org/plugin-crun': { restrictOOMScoreAdj: 'yes' } } });
    expect(() => createStep(crunConfig, machine(), { config: wrong })).to.throw(/restrictOOMScoreAdj must be true or false/);
  });

  it('refuses a sandbox image that is not an image reference (exit 2, naming the field)', () => {
    const bad = testConfig({ pluginConfig: { '@org/plugin-crun': { pauseImage: 'pause"\n[evil]' } } });
    let error: unknown;
    try {
      createStep(crunConfig, machine(), { config: bad });
    } catch (e) {
      error = e;
    }
    expect(isFlexnodeError(error) && error.exitCode).to.equal(2);
    expect((error as Error).message).to.contain('pauseImage is not an image reference');
  });
});
