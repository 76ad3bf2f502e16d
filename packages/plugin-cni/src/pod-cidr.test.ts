import { expect } from 'chai';
import { ConfigError } from '@flexnode/sdk';
import { validateCIDR } from './pod-cidr.js';

describe('pod CIDR', () => {
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
    expect(() => validateCIDR('10.244.1.0/31', "Node n1's spec.podCIDR")).to.throw(ConfigError, /^Node n1's spec\.podCIDR "10\.244\.1\.0\/31" needs a prefix/);
  });
});
