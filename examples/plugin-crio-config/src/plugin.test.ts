import { expect } from 'chai';
import { API_VERSION, ContainerRuntime, instantiate, isFlexnodeError } from '@flexnode/sdk';
import { createStep, MemoryHost, runStepCycle, testConfig } from '@flexnode/sdk/testing';
import { parse } from 'smol-toml';
import plugin, { crioConfig, crioDropIn, crioInstalled, crioService, Paths } from './plugin.js';
import { tomlValue } from './toml.js';

const config = testConfig({ containerd: { pauseImage: 'registry.k8s.io/pause:3.10' } });
const cni = { binDir: '/opt/cni/bin', confDir: '/etc/cni/net.d' };
/** A machine the distribution installed CRI-O on (its daemon's socket appears once it runs). */
const withCrio = () => new MemoryHost().seedFile(Paths.crio, 'crio binary', 0o755).seedFile(Paths.socket, '');

describe('@org/plugin-crio-config (what a CRI replacement provides)', () => {
  it("is the container-runtime capability: every step provides it, and its service tells the kubelet CRI-O's socket", () => {
    expect(plugin.apiVersion).to.equal(API_VERSION);
    expect(plugin.steps.map((s) => s.id)).to.deep.equal(['crio.installed', 'crio.config', 'crio.service']);
    for (const step of plugin.steps) expect(step.provides).to.deep.equal([ContainerRuntime]);
    const service = plugin.services!.find((s) => s.capability === ContainerRuntime)!;
    expect(instantiate(service, () => undefined)).to.deep.equal({
      criEndpoint: 'unix:///var/run/crio/crio.sock',
      unit: 'crio.service',
      cgroupDriver: 'systemd',
    });
  });

  it('on a machine with CRI-O: configures and runs it; uninstall restores the machine (the SDK harness)', async () => {
    const host = withCrio();
    const report = await runStepCycle(plugin.steps, { host, config });
    expect(report.initial['crio.installed']!.status).to.equal('ok');
    expect(report.installOps.map((o) => `${o.op} ${o.target}`)).to.include.members([`write ${Paths.dropIn}`, 'enable crio.service', 'start crio.service']);
    expect(host.files.has(Paths.crio), "the distribution's CRI-O stays").to.equal(true);
  });

  it('without CRI-O, says so and leaves installing it to the distribution', async () => {
    const step = createStep(crioInstalled, new MemoryHost(), { config });
    expect(await step.check()).to.deep.equal({ status: 'missing', reason: '/usr/bin/crio is absent' });
    const error = await step.install().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isFlexnodeError(error) && error.code).to.equal('CRIO_NOT_INSTALLED');
    expect((error as { hint: string }).hint).to.contain('install cri-o from your distribution');
  });

  it('the drop-in sets the systemd cgroup manager, the sandbox image, the runtime and the CNI dirs, as valid TOML', () => {
    const doc = parse(crioDropIn(config, cni)) as Record<string, any>;
    expect(doc['crio']).to.deep.equal({
      runtime: { cgroup_manager: 'systemd', conmon_cgroup: 'pod', default_runtime: 'crun' },
      image: { pause_image: 'registry.k8s.io/pause:3.10' },
      network: { network_dir: '/etc/cni/net.d', plugin_dirs: ['/opt/cni/bin'] },
    });
  });

  it('escapes every string it renders, so no value can add a key or a table', () => {
    const hostile = 'x"\n[crio.runtime]\ndefault_runtime = "evil';
    expect(parse(`k = ${tomlValue(hostile)}`)).to.deep.equal({ k: hostile });
    expect(parse(`k = ${tomlValue([hostile, 'b\\c'])}`)).to.deep.equal({ k: [hostile, 'b\\c'] });
  });

  it('a changed drop-in is drift, and the service restarts with it', async () => {
    const host = withCrio();
    await createStep(crioConfig, host, { config }).install();
    const service = createStep(crioService, host, { config });
    await service.install();
    expect((await service.check()).status).to.equal('ok');
    const runc = testConfig({ pluginConfig: { '@org/plugin-crio-config': { defaultRuntime: 'runc' } } });
    const edited = createStep(crioConfig, host, { config: runc });
    expect((await edited.check()).status).to.equal('drifted');
    await edited.install();
    expect((await service.check()).status).to.equal('drifted');
    const before = host.ops.length;
    await service.install();
    expect(host.ops.slice(before).map((o) => `${o.op} ${o.target}`)).to.include('restart crio.service');
  });

  it('refuses settings it does not know, or values that are not what they claim (exit 2)', () => {
    for (const pluginConfig of [{ runtime: 'crun' }, { defaultRuntime: 'crun; rm -rf /' }, { pauseImage: 'a b' }]) {
      const bad = testConfig({ pluginConfig: { '@org/plugin-crio-config': pluginConfig } });
      expect(() => crioDropIn(bad, cni), JSON.stringify(pluginConfig))
        .to.throw()
        .with.property('exitCode', 2);
    }
  });
});
