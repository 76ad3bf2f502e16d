import { expect } from 'chai';
import { ConfigError } from '@flexnode/sdk';
import { createStep, MemoryHost, runStepCycle, testConfig } from '@flexnode/sdk/testing';
import { bridgeConflist, cniBridgeConfig } from './bridge-config.js';

const PATH = '/etc/cni/net.d/99-bridge.conflist';
type Json = Record<string, any>;

describe('cni.bridge-config', () => {
  const config = testConfig({ cni: { podCIDR: '10.244.3.0/24' } });

  it('provides cni, after cni.plugins', () => {
    expect(cniBridgeConfig.provides).to.deep.equal(['cni']);
    expect(cniBridgeConfig.after).to.deep.equal(['cni.plugins']);
  });

  it('writes 99-bridge.conflist, idempotently, and uninstall restores the machine', async () => {
    const host = new MemoryHost();
    const report = await runStepCycle(cniBridgeConfig, { host, config });
    expect(report.initial['cni.bridge-config']!.status).to.equal('missing');
    expect(report.installed.files[PATH]!.mode).to.equal(0o644);
    expect([...host.dirs].filter((d) => d.startsWith('/etc'))).to.deep.equal([]);
  });

  it('is a bridge + host-local (pod CIDR from the config) + portmap chain', async () => {
    const host = new MemoryHost();
    await createStep(cniBridgeConfig, host, { config }).install();
    const doc = JSON.parse(host.files.get(PATH)!.content.toString()) as Json;
    expect(doc['cniVersion']).to.equal('1.0.0');
    expect(doc['plugins'].map((p: Json) => p['type'])).to.deep.equal(['bridge', 'portmap']);
    expect(doc['plugins'][0]).to.include({ bridge: 'cni0', isGateway: true, ipMasq: true, hairpinMode: true });
    expect(doc['plugins'][0].ipam).to.deep.equal({
      type: 'host-local',
      ranges: [[{ subnet: '10.244.3.0/24' }]],
      routes: [{ dst: '0.0.0.0/0' }],
    });
    expect(doc['plugins'][1].capabilities).to.deep.equal({ portMappings: true });
  });

  it('warns when the pod CIDR is defaulted, and refuses an invalid one', async () => {
    const host = new MemoryHost();
    await createStep(cniBridgeConfig, host, { config: testConfig() }).install();
    expect(host.logLines.find((l) => l.level === 'warn')!.message).to.contain('every node needs its own pod CIDR');
    const bad = createStep(cniBridgeConfig, new MemoryHost(), { config: testConfig({ cni: { podCIDR: '10.244.0.1/24' } }) });
    let error: unknown;
    await bad.check().catch((e) => (error = e));
    expect(error).to.be.instanceOf(ConfigError);
  });

  it('compares JSON semantically: reformatting is fine, a changed value is drift, a new pod CIDR too', async () => {
    const host = new MemoryHost();
    const step = createStep(cniBridgeConfig, host, { config });
    await step.install();
    host.files.get(PATH)!.content = Buffer.from(JSON.stringify(bridgeConflist('10.244.3.0/24')));
    expect((await step.check()).status).to.equal('ok');
    host.files.get(PATH)!.content = Buffer.from('{ not json');
    expect(((await step.check()) as { reason: string }).reason).to.contain('not valid JSON');
    const moved = createStep(cniBridgeConfig, host, { config: testConfig({ cni: { podCIDR: '10.244.9.0/24' } }) });
    await step.install();
    const result = await moved.check();
    expect(result.status === 'drifted' && result.reason).to.contain('"10.244.3.0/24", expected "10.244.9.0/24"');
  });

  it('writes into paths.cni.confDir and restores what was there', async () => {
    const host = new MemoryHost().seedFile('/etc/cni/custom.d/99-bridge.conflist', '{}');
    await runStepCycle(cniBridgeConfig, { host, config: testConfig({ cni: { podCIDR: '10.1.0.0/24' }, paths: { cni: { confDir: '/etc/cni/custom.d' } } }) });
    expect(host.files.get('/etc/cni/custom.d/99-bridge.conflist')!.content.toString()).to.equal('{}');
  });
});
