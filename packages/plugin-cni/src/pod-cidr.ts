import { isIPv4, isIPv6 } from 'node:net';
import { ConfigError } from '@flexnode/sdk';

/**
 * Check a pod range for the bridge and return it: a network address with a prefix that leaves room for the
 * gateway and pods (IPv4 /8-/30, IPv6 /48-/120). `field` names where it came from (`cni.podCIDR`, or the Node's
 * spec.podCIDR) in the ConfigError otherwise.
 */
export function validateCIDR(value: string, field = 'cni.podCIDR'): string {
  const fail = (message: string): never => {
    throw new ConfigError(`${field} "${value}" ${message}`, [{ path: field, message }]);
  };
  const [address, prefixText, extra] = value.split('/');
  if (!address || prefixText === undefined || extra !== undefined || !/^\d+$/.test(prefixText)) {
    return fail('is not a CIDR such as 10.244.1.0/24');
  }
  const prefix = Number(prefixText);
  if (isIPv4(address)) {
    // A bridge needs room for the gateway and pods: at least 4 addresses.
    if (prefix < 8 || prefix > 30) return fail('needs a prefix length between /8 and /30');
    const n = address.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
    const hostBits = 2 ** (32 - prefix);
    if (n % hostBits !== 0) {
      const base = n - (n % hostBits);
      const canonical = [24, 16, 8, 0].map((s) => Math.floor(base / 2 ** s) % 256).join('.');
      return fail(`has host bits set: did you mean ${canonical}/${prefix}?`);
    }
    return value;
  }
  if (isIPv6(address)) {
    if (prefix < 48 || prefix > 120) return fail('needs a prefix length between /48 and /120');
    return value;
  }
  return fail('does not start with an IP address');
}
