import { expect } from 'chai';
import { parse } from 'smol-toml';
import { Cni, type CniService } from '@flexnode/sdk';
import { createStep, MemoryHost, runStepCycle, testConfig } from '@flexnode/sdk/testing';
import { CRI_PLUGIN, DEFAULT_PAUSE_IMAGE } from './containerd-config.js';
import { containerdConfig } from './steps.js';

const CONFIG = '/etc/containerd/config.toml';
type Doc = Record<string, any>;

describe('containerd.config', () => {
  it('writes a version 2 config.toml, idempotently, and uninstall restores the machine', async () => {
    const host = new MemoryHost();
    const report = await runStepCycle(containerdConfig, { host, config: testConfig() });
    expect(report.initial['containerd.config']!.status).to.equal('missing');
    expect(report.installed.files[CONFIG]!.mode).to.equal(0o644);
    expect(report.installed.dirs).to.include('/etc/containerd');
    expect(host.dirs.has('/etc/containerd')).to.equal(false);
  });

  it('has the CRI sandbox image, runc v2 with SystemdCgroup, the CNI paths and the registry hosts dir', async () => {
    const host = new MemoryHost();
    await createStep(containerdConfig, host, { config: testConfig() }).install();
    const text = host.files.get(CONFIG)!.content.toString();
    expect(text).to.match(/^# Written by flexnode/);
    const doc = parse(text) as Doc;
    expect(doc['version']).to.equal(2);
    expect(doc['imports']).to.deep.equal(['/etc/containerd/conf.d/*.toml']);
    const cri = doc['plugins'][CRI_PLUGIN];
    expect(cri.sandbox_image).to.equal(DEFAULT_PAUSE_IMAGE);
    expect(cri.containerd.default_runtime_name).to.equal('runc');
    expect(cri.containerd.runtimes.runc).to.deep.equal({ runtime_type: 'io.containerd.runc.v2', options: { SystemdCgroup: true } });
    expect(cri.cni).to.deep.equal({ bin_dir: '/opt/cni/bin', conf_dir: '/etc/cni/net.d' });
    expect(cri.registry).to.deep.equal({ config_path: '/etc/containerd/certs.d' });
    expect(doc).to.not.have.property('metrics');
  });

  it('takes the pause image and metrics address from the config, the CNI paths from the chosen cni provider', async () => {
    const host = new MemoryHost();
    const config = testConfig({ containerd: { pauseImage: 'registry.example/pause:3.10', metricsAddress: '127.0.0.1:10257' } });
    const cni: CniService = { binDir: '/usr/lib/cni', confDir: '/etc/cni/custom.d' };
    await createStep(containerdConfig, host, { config, services: new Map([[Cni, cni]]) }).install();
    const doc = parse(host.files.get(CONFIG)!.content.toString()) as Doc;
    expect(doc['plugins'][CRI_PLUGIN].sandbox_image).to.equal('registry.example/pause:3.10');
    expect(doc['plugins'][CRI_PLUGIN].cni).to.deep.equal({ bin_dir: '/usr/lib/cni', conf_dir: '/etc/cni/custom.d' });
    expect(doc['metrics']).to.deep.equal({ address: '127.0.0.1:10257' });
  });

  it('compares semantically: reformatting is fine, a changed value is drift, and install heals it', async () => {
    const host = new MemoryHost();
    const step = createStep(containerdConfig, host, { config: testConfig() });
    await step.install();
    const text = host.files.get(CONFIG)!.content.toString();
    host.files.get(CONFIG)!.content = Buffer.from(text.replace(/^#.*$/gm, '').replace(/\n+/g, '\n').replace(/ = /g, '='));
    expect((await step.check()).status).to.equal('ok');
    host.files.get(CONFIG)!.content = Buffer.from(text.replace('SystemdCgroup = true', 'SystemdCgroup = false'));
    const result = await step.check();
    expect(result.status).to.equal('drifted');
    expect(result.status !== 'ok' && result.reason).to.contain('SystemdCgroup is false, expected true');
    host.files.get(CONFIG)!.content = Buffer.from(`${text}\n[debug]\nlevel = "debug"\n`);
    expect((await step.check()).status !== 'ok' && ((await step.check()) as { reason: string }).reason).to.contain('debug is unexpected');
    await step.install();
    expect((await step.check()).status).to.equal('ok');
  });

  it('reports a file that is not TOML as drift', async () => {
    const host = new MemoryHost().seedFile(CONFIG, 'version = = 2');
    const result = await createStep(containerdConfig, host, { config: testConfig() }).check();
    expect(result.status === 'drifted' && result.reason).to.contain('not valid TOML');
  });

  it("restores the distribution's config.toml on uninstall", async () => {
    const host = new MemoryHost().seedFile(CONFIG, 'disabled_plugins = ["cri"]\n');
    const report = await runStepCycle(containerdConfig, { host, config: testConfig() });
    expect(report.initial['containerd.config']!.status).to.equal('drifted');
    expect(host.files.get(CONFIG)!.content.toString()).to.equal('disabled_plugins = ["cri"]\n');
  });
});

describe('containerd config.toml: values the schema accepts read back exactly through the TOML parser', () => {
  it('a metrics address with quotes, #, brackets, backslashes and = in the host part', async () => {
    const { containerdConfigDocument, renderContainerdConfig } = await import('./containerd-config.js');
    for (const host of ['"q"', "'s'", '#c', '[t]', 'a\\b', 'x = "y"', '%h', '$X', ' lead', 'ümlaut', '""" ']) {
      const config = testConfig({ containerd: { metricsAddress: `${host}:1338` } });
      const doc = containerdConfigDocument(config, { binDir: '/opt/cni/bin', confDir: '/etc/cni/net.d' });
      const back = parse(await renderContainerdConfig(doc)) as Record<string, any>;
      expect(back.metrics, host).to.deep.equal({ address: `${host}:1338` });
    }
  });
});
