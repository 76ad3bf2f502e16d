import { expect } from 'chai';
import { API_VERSION } from '@flexnode/sdk';
import { createStep, MemoryHost, runStepCycle, testConfig } from '@flexnode/sdk/testing';
import plugin, { exampleStep, MARKER } from './plugin.js';

describe('__PLUGIN_NAME__', () => {
  it('declares the current plugin API', () => {
    expect(plugin.name).to.equal('__PLUGIN_NAME__');
    expect(plugin.apiVersion).to.equal(API_VERSION);
    expect(plugin.steps.map((s) => s.id)).to.deep.equal(['__STEP_PREFIX__.example']);
  });

  it('installs, is idempotent, and uninstall restores the machine', async () => {
    // runStepCycle asserts the contract: check changes nothing, install makes check ok, a second install
    // changes nothing, and uninstall restores the machine exactly.
    const report = await runStepCycle(exampleStep, { config: testConfig() });
    expect(report.initial['__STEP_PREFIX__.example']!.status).to.equal('missing');
    expect(report.installOps.map((o) => `${o.op} ${o.target}`)).to.include(`write ${MARKER}`);
  });

  it('reports drift when the file is edited, and install repairs it', async () => {
    const host = new MemoryHost();
    const step = createStep(exampleStep, host, { config: testConfig() });
    await step.install();
    host.files.get(MARKER)!.content = Buffer.from('edited by hand\n');
    expect((await step.check()).status).to.equal('drifted');
    await step.install();
    expect((await step.check()).status).to.equal('ok');
  });

  it('keeps a file that was there before: uninstall puts the old content back', async () => {
    const host = new MemoryHost().seedFile(MARKER, 'old\n');
    await runStepCycle(exampleStep, { host, config: testConfig() });
    expect(host.files.get(MARKER)!.content.toString()).to.equal('old\n');
  });
});
