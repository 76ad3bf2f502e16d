import { expect } from 'chai';
import { addressText, contains, isPrivateAddress, overlaps, parseCidr, subnet, subnetCount } from './cidr.js';

const c = (text: string) => {
  const parsed = parseCidr(text);
  if (!parsed) throw new Error(`test CIDR ${text} does not parse`);
  return parsed;
};

describe('CIDR arithmetic (IPv4 and IPv6)', () => {
  it('parses network addresses of both families into their canonical text; refuses host bits, bad prefixes and octal', () => {
    expect(c('10.244.1.0/24')).to.include({ family: 4, bits: 24, text: '10.244.1.0/24' });
    expect(c('0.0.0.0/0').text).to.equal('0.0.0.0/0');
    expect(c('FD00:10:244:0:0:0:0:0/64')).to.include({ family: 6, bits: 64, text: 'fd00:10:244::/64' });
    expect(c('2001:db8::/32').text).to.equal('2001:db8::/32');
    expect(c('::/0').text).to.equal('::/0');
    for (const bad of ['10.244.1.5/24', '10.244.1.0/33', '010.244.1.0/24', '10.244.1.0', '10.244.1.0/24/1', 'fd00::1/64', 'fd00::/129', 'x/8', '']) {
      expect(parseCidr(bad), bad).to.equal(undefined);
    }
    expect(parseCidr('10.244.1.5/24', false)!.text).to.equal('10.244.1.0/24');
  });

  it('writes IPv6 as RFC 5952 does: the longest zero run compressed, the first on a tie, a single zero not', () => {
    const v6 = (t: string) => c(`${t}/128`).text.replace('/128', '');
    expect(v6('2001:db8:0:0:1:0:0:1')).to.equal('2001:db8::1:0:0:1');
    expect(v6('2001:db8:0:1:1:1:1:1')).to.equal('2001:db8:0:1:1:1:1:1');
    expect(v6('0:0:0:0:0:0:0:1')).to.equal('::1');
    expect(addressText(4, 0x0a000001n)).to.equal('10.0.0.1');
  });

  it('overlap and containment, never across families', () => {
    expect(overlaps(c('10.244.0.0/16'), c('10.244.3.0/24'))).to.equal(true);
    expect(overlaps(c('10.244.3.0/24'), c('10.244.0.0/16'))).to.equal(true);
    expect(overlaps(c('10.244.0.0/24'), c('10.244.1.0/24'))).to.equal(false);
    expect(overlaps(c('172.16.0.0/12'), c('172.31.0.0/16'))).to.equal(true);
    expect(overlaps(c('10.0.0.0/8'), c('fd00::/8'))).to.equal(false);
    expect(overlaps(c('fd00:10:244::/56'), c('fd00:10:244:7::/64'))).to.equal(true);
    expect(overlaps(c('fd00:10:244::/64'), c('fd00:10:244:1::/64'))).to.equal(false);
    expect(contains(c('10.244.0.0/16'), c('10.244.3.0/24'))).to.equal(true);
    expect(contains(c('10.244.3.0/24'), c('10.244.0.0/16'))).to.equal(false);
    expect(contains(c('10.244.0.0/16'), c('10.245.0.0/24'))).to.equal(false);
  });

  it('splits a range into equal subnets, in order, and nothing past its end', () => {
    const pool = c('10.90.0.0/16');
    expect(subnetCount(pool, 24)).to.equal(256n);
    expect(subnet(pool, 24, 0n)!.text).to.equal('10.90.0.0/24');
    expect(subnet(pool, 24, 255n)!.text).to.equal('10.90.255.0/24');
    expect(subnet(pool, 24, 256n)).to.equal(undefined);
    expect(subnet(pool, 26, 5n)!.text).to.equal('10.90.1.64/26');
    expect(subnetCount(pool, 15)).to.equal(0n);
    const v6 = c('fd00:90::/48');
    expect(subnetCount(v6, 64)).to.equal(65536n);
    expect(subnet(v6, 64, 258n)!.text).to.equal('fd00:90:0:102::/64');
  });

  it('tells private and shared addresses from public ones', () => {
    for (const a of ['10.1.2.3', '172.20.0.1', '192.168.4.4', '100.64.0.9', 'fd12::1']) expect(isPrivateAddress(a), a).to.equal(true);
    for (const a of ['20.50.1.1', '172.32.0.1', '8.8.8.8', '2001:db8::1', 'not-an-ip']) expect(isPrivateAddress(a), a).to.equal(false);
  });
});
