import { isIPv4, isIPv6 } from 'node:net';
import { ConfigError, type FlexnodeConfig } from '@flexnode/sdk';

/**
 * The default pod CIDR of this node's bridge network when `cni.podCIDR` is not set. Upstream gave every node
 * 10.244.0.0/16, so two nodes handed out the same pod addresses; a /24 makes it plain that the range is per
 * node, and the step warns while the default is in use. Set a unique `cni.podCIDR` on each node.
 */
export const DEFAULT_POD_CIDR = '10.244.0.0/24';

/** The node's pod CIDR from the config (validated: an IPv4 or IPv6 network address with its prefix). */
export function podCIDR(config: FlexnodeConfig): { cidr: string; defaulted: boolean } {
  const value = config.cni?.podCIDR;
  if (value === undefined) return { cidr: DEFAULT_POD_CIDR, defaulted: true };
  return { cidr: validateCIDR(value), defaulted: false };
}

/** Check a CIDR and return it; throws {@link ConfigError} on `cni.podCIDR` otherwise. */
export function validateCIDR(value: string): string {
  const fail = (message: string): never => {
    throw new ConfigError(`cni.podCIDR "${value}" ${message}`, [{ path: 'cni.podCIDR', message }]);
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
