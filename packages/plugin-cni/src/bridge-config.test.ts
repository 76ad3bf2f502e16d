import { expect } from 'chai';
import { ConfigError, FlexnodeError, PodCidr, PodCidrErrors } from '@flexnode/sdk';
import { createStep, MemoryHost, runStepCycle, testConfig } from '@flexnode/sdk/testing';
import { bridgeConflist } from './bridge-config.js';
import { cniBridgeConfig } from './steps.js';

/** A pod-cidr service answering `ranges`, or failing with the error. */
const podRange = (ranges: string[] | FlexnodeError) =>
  new Map<symbol, unknown>([
    [
      PodCidr,
      {
        podCIDRs: async () => {
          if (ranges instanceof FlexnodeError) throw ranges;
          return ranges;
        },
      },
    ],
  ]);

const PATH = '/etc/cni/net.d/99-bridge.conflist';
type Json = Record<string, any>;

describe('cni.bridge-config', () => {
  const config = testConfig({ cni: { podCIDR: '10.244.3.0/24' } });

  it('provides cni, after cni.plugins and the pod-cidr provider', () => {
    expect(cniBridgeConfig.provides).to.deep.equal(['cni']);
    expect(cniBridgeConfig.after).to.deep.equal(['cni.plugins', PodCidr]);
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

  it('has no default range: without one it is missing, and an install fails (a plan says it waits for the Node)', async () => {
    const host = new MemoryHost();
    const step = createStep(cniBridgeConfig, host, { config: testConfig() });
    host.seedFile(PATH, '{}');
    expect(await step.check()).to.deep.include({ status: 'missing' });
    host.files.delete(PATH);
    expect(((await step.install().catch((e: Error) => e)) as FlexnodeError).code).to.equal(PodCidrErrors.pending);
    expect(host.files.has(PATH)).to.equal(false);
    const plan = new MemoryHost({ dryRun: true });
    await createStep(cniBridgeConfig, plan, { config: testConfig() }).install();
    expect(plan.logLines.map((l) => l.message).join('\n')).to.contain('once the Node has one');
  });

  it('refuses a range a bridge cannot use, naming where it came from', async () => {
    const bad = createStep(cniBridgeConfig, new MemoryHost().seedFile(PATH, '{}'), { config: testConfig({ cni: { podCIDR: '10.244.0.1/24' } }) });
    expect(await bad.check().catch((e: Error) => e))
      .to.be.instanceOf(ConfigError)
      .and.have.property('message')
      .that.matches(/^cni\.podCIDR "10\.244\.0\.1\/24" has host bits set/);
    const fromNode = createStep(cniBridgeConfig, new MemoryHost().seedFile(PATH, '{}'), { config: testConfig(), services: podRange(['10.244.0.0/31']) });
    expect(await fromNode.check().catch((e: Error) => e))
      .to.have.property('message')
      .that.matches(/^the Node's spec\.podCIDR "10\.244\.0\.0\/31"/);
  });

  it("takes the pod-cidr service's ranges (dual-stack: one range set and one default route per family)", async () => {
    const host = new MemoryHost();
    await createStep(cniBridgeConfig, host, { config: testConfig(), services: podRange(['10.90.4.0/24', 'fd00:90:4::/64']) }).install();
    const ipam = (JSON.parse(host.files.get(PATH)!.content.toString()) as Json)['plugins'][0].ipam;
    expect(ipam.ranges).to.deep.equal([[{ subnet: '10.90.4.0/24' }], [{ subnet: 'fd00:90:4::/64' }]]);
    expect(ipam.routes).to.deep.equal([{ dst: '0.0.0.0/0' }, { dst: '::/0' }]);
  });

  it('goes on with the recorded range while the live one cannot be read, and fails while it is pending', async () => {
    const host = new MemoryHost();
    await createStep(cniBridgeConfig, host, { config: testConfig(), services: podRange(['10.90.4.0/24']) }).install();
    const away = createStep(cniBridgeConfig, host, {
      config: testConfig(),
      services: podRange(new FlexnodeError(PodCidrErrors.unreadable, 'the API server does not answer')),
    });
    expect(await away.check()).to.deep.include({ status: 'ok' });
    host.files.delete(PATH);
    await away.install();
    expect((JSON.parse(host.files.get(PATH)!.content.toString()) as Json)['plugins'][0].ipam.ranges).to.deep.equal([[{ subnet: '10.90.4.0/24' }]]);
    const moved = createStep(cniBridgeConfig, host, { config: testConfig(), services: podRange(['10.90.7.0/24']) });
    expect((await moved.check()).status).to.equal('drifted');
    const gone = createStep(cniBridgeConfig, host, {
      config: testConfig(),
      services: podRange(new FlexnodeError(PodCidrErrors.pending, 'Node n1 is not registered yet')),
    });
    expect(await gone.check()).to.deep.equal({ status: 'missing', reason: 'Node n1 is not registered yet' });
  });

  it('records the range a conflist was written with, also when a killed run wrote the conflist but not the record', async () => {
    const host = new MemoryHost().seedFile(PATH, `${JSON.stringify(bridgeConflist('10.244.3.0/24'))}\n`);
    const step = createStep(cniBridgeConfig, host, { config });
    expect((await step.check()).status).to.equal('ok');
    await step.install();
    const kinds = host
      .forStep('cni.bridge-config')
      .changes.list()
      .map((c) => (c.kind === 'custom' ? `custom:${c.type}` : c.kind));
    expect(kinds, 'the conflist is left as it is, its range recorded').to.deep.equal(['custom:bridge-pod-cidrs']);
    const away = createStep(cniBridgeConfig, host, {
      config: testConfig(),
      services: podRange(new FlexnodeError(PodCidrErrors.unreadable, 'the API server does not answer')),
    });
    expect(await away.check()).to.deep.include({ status: 'ok' });
    await step.install();
    expect(host.forStep('cni.bridge-config').changes.list(), 'a converged re-run changes nothing').to.have.length(1);
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

  it('paths.cni.confDir moved: the conflist is written in the new one and taken out of the old one', async () => {
    const host = new MemoryHost();
    await createStep(cniBridgeConfig, host, { config }).install();
    const moved = createStep(cniBridgeConfig, host, {
      config: testConfig({ cni: { podCIDR: '10.244.3.0/24' }, paths: { cni: { confDir: '/etc/cni/alt.d' } } }),
    });
    expect((await moved.check()).status).to.equal('missing');
    await moved.install();
    expect((await moved.check()).status).to.equal('ok');
    expect(host.files.has('/etc/cni/alt.d/99-bridge.conflist')).to.equal(true);
    expect(host.files.has(PATH), 'the old conflist').to.equal(false);
    await moved.uninstall();
    expect([...host.files.keys()].filter((p) => p.startsWith('/etc/cni'))).to.deep.equal([]);
  });
});
