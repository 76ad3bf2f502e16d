import { expect } from 'chai';
import { API_VERSION } from '@flexnode/sdk';
import { runStepCycle } from '@flexnode/sdk/testing';
import { cniFixture } from './fixtures.test.helpers.js';
import plugin from './plugin.js';

describe('@flexnode/plugin-cni', () => {
  it('declares its steps against the current SDK', () => {
    expect(plugin.name).to.equal('@flexnode/plugin-cni');
    expect(plugin.apiVersion).to.equal(API_VERSION);
    expect(plugin.steps.map((s) => [s.id, s.provides])).to.deep.equal([
      ['cni.plugins', ['cni-plugins']],
      ['cni.bridge-config', ['cni']],
    ]);
  });

  it('runs both steps through a full cycle on one machine', async () => {
    const { host, config } = cniFixture();
    await runStepCycle(plugin.steps, { host, config });
    expect([...host.files.keys()].filter((p) => !p.startsWith('/.staging/'))).to.deep.equal([]);
  });
});
