import { expect } from 'chai';
import { ConfigError } from '@flexnode/sdk';
import { testConfig } from '@flexnode/sdk/testing';
import { DEFAULT_POD_CIDR, podCIDR, validateCIDR } from './pod-cidr.js';

describe('pod CIDR', () => {
  it('comes from cni.podCIDR, else a per-node /24 default flagged as defaulted', () => {
    expect(podCIDR(testConfig({ cni: { podCIDR: '10.244.7.0/24' } }))).to.deep.equal({ cidr: '10.244.7.0/24', defaulted: false });
    expect(podCIDR(testConfig())).to.deep.equal({ cidr: DEFAULT_POD_CIDR, defaulted: true });
  });

  it('accepts network addresses and refuses anything else with the field path', () => {
    expect(validateCIDR('10.1.0.0/16')).to.equal('10.1.0.0/16');
    expect(validateCIDR('fd00:10:244::/64')).to.equal('fd00:10:244::/64');
    for (const bad of ['10.244.0.0', '10.244.0.0/33', '10.244.0.0/31', 'banana/24', '10.244.0.0/24/1']) {
      expect(() => validateCIDR(bad), bad).to.throw(ConfigError);
    }
    try {
      validateCIDR('10.244.1.5/24');
      expect.fail('accepted host bits');
    } catch (e) {
      expect((e as ConfigError).message).to.contain('did you mean 10.244.1.0/24');
      expect((e as ConfigError).issues[0]!.path).to.equal('cni.podCIDR');
    }
  });
});
