import { expect } from 'chai';
import { ConfigError } from '@flexnode/sdk';
import { testConfig } from '@flexnode/sdk/testing';
import { isNodeIP, kubeSettings, PLUGIN_NAME } from './settings.js';

describe('plugin-kube settings', () => {
  it("nodeIP: one IPv4 or IPv6 address, or an IPv4,IPv6 pair, as the kubelet's --node-ip takes", () => {
    for (const ok of ['10.0.0.4', '2001:db8::4', '::1', '10.0.0.4,2001:db8::4', 'fd00::1,192.168.1.2', '::ffff:10.0.0.1'])
      expect(isNodeIP(ok), ok).to.equal(true);
    for (const bad of ['999.1.1.1', 'dead', '...', '10.0.0', '10.0.0.4,10.0.0.5', '2001:db8::4,fd00::1', '10.0.0.4,', '', '1.2.3.4 ', '01.2.3.4x']) {
      expect(isNodeIP(bad), bad).to.equal(false);
    }
    expect(() => kubeSettings(testConfig({ pluginConfig: { [PLUGIN_NAME]: { nodeIP: '999.1.1.1' } } })))
      .to.throw(ConfigError)
      .with.property('message')
      .that.matches(/nodeIP/);
    expect(kubeSettings(testConfig({ pluginConfig: { [PLUGIN_NAME]: { nodeIP: '10.0.0.4' } } })).nodeIP).to.equal('10.0.0.4');
  });

  it('skipPreflight: a name that is no check is refused, naming the checks (a misspelling skipped nothing, silently)', () => {
    const settings = (skip: string[]) => kubeSettings(testConfig({ pluginConfig: { [PLUGIN_NAME]: { skipPreflight: skip } } }));
    expect(settings(['clock', 'api-server', 'all']).skipPreflight).to.deep.equal(['clock', 'api-server', 'all']);
    expect(() => settings(['clock', 'azure-endpoints']))
      .to.throw(ConfigError)
      .with.property('message')
      .that.matches(/no check is named "azure-endpoints"; checks: os, .*azure-endpoint, .*node-ranges, all/);
  });
});
