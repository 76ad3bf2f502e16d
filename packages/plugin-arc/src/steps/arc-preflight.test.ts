import { expect } from 'chai';
import { createStep, MemoryHost, testConfig } from '@flexnode/sdk/testing';
import { AGENT_PATH } from '../azcmagent.js';
import { AZURE_CHASSIS_ASSET_TAG, DMI_ASSET_TAG } from '../azure-vm.js';
import { arcPreflight } from '../steps.js';
import { arcPreflightOps } from './arc-preflight.js';

const UBUNTU_26 = 'ID=ubuntu\nVERSION_ID="26.04"\nPRETTY_NAME="Ubuntu 26.04 LTS"\n';
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: Error & { code?: string }) => e,
  );

describe('arc.preflight (before any change)', () => {
  afterEach(() => delete process.env.MSFT_ARC_TEST);

  it('refuses an Azure VM from its DMI chassis asset tag, with the way to test anyway', async () => {
    const host = new MemoryHost().seedFile(DMI_ASSET_TAG, `${AZURE_CHASSIS_ASSET_TAG}\n`).seedFile('/etc/os-release', 'ID=ubuntu\nVERSION_ID="22.04"\n');
    const step = createStep(arcPreflight, host, { config: testConfig() });
    const check = await step.check();
    expect(check.status).to.equal('missing');
    expect(JSON.stringify(check)).to.include('Azure virtual machine');
    const error = await failure(step.install());
    expect(error?.code).to.equal('ARC_AZURE_VM');
    expect((error as { hint?: string }).hint).to.include('MSFT_ARC_TEST=true');
    process.env.MSFT_ARC_TEST = 'true';
    expect(await step.check()).to.deep.include({ status: 'ok' });
    expect(JSON.stringify(await step.check())).to.include('for testing only');
    expect(host.ops).to.deep.equal([]);
  });

  it('a host name Azure would refuse as the machine name (no azure.arc.machineName) fails as the step loads, before any change', () => {
    const config = testConfig();
    config.azure.arc = { ...config.azure.arc, machineName: undefined };
    const long = `edge-${'1'.repeat(58)}`; // a valid DNS label, 63 characters; Azure takes 54
    const host = new MemoryHost();
    expect(() => arcPreflightOps({ host: host.forStep('arc.preflight'), config }, () => long)).to.throw(
      /azure\.arc\.machineName is not set and this host's name/,
    );
    expect(() => arcPreflightOps({ host: host.forStep('arc.preflight'), config }, () => 'edge-01.corp.example')).to.not.throw();
    config.azure.arc.machineName = 'edge-01';
    expect(() => arcPreflightOps({ host: host.forStep('arc.preflight'), config }, () => long), 'a configured name wins').to.not.throw();
    expect(host.ops).to.deep.equal([]);
  });

  it('a Hyper-V guest outside Azure (Microsoft Corporation / Virtual Machine, no Azure tag) is fine', async () => {
    const host = new MemoryHost()
      .seedFile('/sys/class/dmi/id/sys_vendor', 'Microsoft Corporation\n')
      .seedFile('/sys/class/dmi/id/product_name', 'Virtual Machine\n')
      .seedFile(DMI_ASSET_TAG, 'None\n')
      .seedFile('/etc/os-release', 'ID=debian\nVERSION_ID="12"\n');
    expect((await createStep(arcPreflight, host, { config: testConfig() }).check()).status).to.equal('ok');
  });

  it('refuses a release Microsoft publishes no agent for while the agent is missing (a config error naming the fields)', async () => {
    const host = new MemoryHost().seedFile('/etc/os-release', UBUNTU_26);
    const step = createStep(arcPreflight, host, { config: testConfig() });
    expect(JSON.stringify(await step.check())).to.include('not for Ubuntu 26.04 LTS');
    const error = await failure(step.install());
    expect(error?.code).to.equal('CONFIG_INVALID');
    expect(error?.message).to.include("the agent's package repository cannot be chosen");
    // An agent that is there already needs no repository; another source needs none either.
    host.seedFile(AGENT_PATH, '#!/bin/sh\n', 0o755);
    expect((await step.check()).status).to.equal('ok');
    const binary = testConfig({ pluginConfig: { '@flexnode/plugin-arc': { agent: { source: 'none' } } } });
    expect((await createStep(arcPreflight, new MemoryHost().seedFile('/etc/os-release', UBUNTU_26), { config: binary }).check()).status).to.equal('ok');
  });

  it('under a sandbox --root without os-release, leaves the release to arc.agent (which names it)', async () => {
    const check = await createStep(arcPreflight, new MemoryHost(), { config: testConfig() }).check();
    expect(check.status).to.equal('ok');
    expect(JSON.stringify(check)).to.include('release unknown');
  });

  it('does not apply when Arc is off', () => {
    expect(arcPreflight.when!(testConfig({ azure: { ...testConfig().azure, arc: { enabled: false } } }))).to.match(/enabled is false/);
  });
});
