import { isIPv4, isIPv6 } from 'node:net';

/** An IPv4 or IPv6 network: its first address as a number, its prefix length, its family. */
export interface Cidr {
  readonly family: 4 | 6;
  readonly base: bigint;
  readonly bits: number;
  /** As written canonically: `10.244.1.0/24`, `fd00:10:244:1::/64`. */
  readonly text: string;
}

const WIDTH = { 4: 32, 6: 128 } as const;

function ipv4ToBig(address: string): bigint {
  return address.split('.').reduce((acc, part) => acc * 256n + BigInt(Number(part)), 0n);
}

function ipv6ToBig(address: string): bigint {
  let text = address;
  // An embedded IPv4 tail (::ffff:10.0.0.1) becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipv4ToBig(v4[1]!);
    text = `${text.slice(0, -v4[1]!.length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].reduce((acc, h) => acc * 65536n + BigInt(parseInt(h, 16)), 0n);
}

/** The address of a number, in the family's canonical text (IPv6 compressed as RFC 5952 says). */
export function addressText(family: 4 | 6, n: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
  const hextets = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt((7 - i) * 16)) & 0xffffn));
  // The longest run of two or more zero hextets is written as `::` (the first such run on a tie).
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8;) {
    if (hextets[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && hextets[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j;
  }
  const hex = hextets.map((h) => h.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}

/**
 * Parse `a.b.c.d/n` or an IPv6 network; undefined for anything else. With `strict`, host bits must be zero (as
 * the CNI plugins and kube-controller-manager require); otherwise they are cleared.
 */
export function parseCidr(text: string, strict = true): Cidr | undefined {
  const [address, prefix, extra] = text.trim().split('/');
  if (!address || prefix === undefined || extra !== undefined || !/^\d{1,3}$/.test(prefix)) return undefined;
  // A leading zero (010.244.0.0) is octal to inet_aton and an error to Go's net.ParseCIDR.
  const family = isIPv4(address) && !address.split('.').some((p) => p.length > 1 && p.startsWith('0')) ? 4 : isIPv6(address) ? 6 : undefined;
  if (!family) return undefined;
  const bits = Number(prefix);
  if (bits > WIDTH[family]) return undefined;
  const n = family === 4 ? ipv4ToBig(address) : ipv6ToBig(address);
  const host = (1n << BigInt(WIDTH[family] - bits)) - 1n;
  if (strict && (n & host) !== 0n) return undefined;
  const base = n & ~host;
  return { family, base, bits, text: `${addressText(family, base)}/${bits}` };
}

/** The number of addresses in a network. */
export const size = (c: Cidr): bigint => 1n << BigInt(WIDTH[c.family] - c.bits);

/** True when two networks share an address (never across families). */
export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.base < b.base + size(b) && b.base < a.base + size(a);
}

/** True when `inner` lies entirely inside `outer`. */
export function contains(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && inner.bits >= outer.bits && inner.base >= outer.base && inner.base + size(inner) <= outer.base + size(outer);
}

/** How many `/maskBits` networks `pool` holds. */
export function subnetCount(pool: Cidr, maskBits: number): bigint {
  return maskBits < pool.bits ? 0n : 1n << BigInt(maskBits - pool.bits);
}

/** The `index`-th `/maskBits` network of `pool` (0-based), or undefined past its end. */
export function subnet(pool: Cidr, maskBits: number, index: bigint): Cidr | undefined {
  if (index < 0n || index >= subnetCount(pool, maskBits)) return undefined;
  const base = pool.base + index * (1n << BigInt(WIDTH[pool.family] - maskBits));
  return { family: pool.family, base, bits: maskBits, text: `${addressText(pool.family, base)}/${maskBits}` };
}

/** The address is in one of the private or shared ranges (RFC 1918, RFC 6598, RFC 4193) rather than a public one. */
export function isPrivateAddress(address: string): boolean {
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (!family) return false;
  const ip = parseCidr(`${address}/${WIDTH[family]}`, false)!;
  const ranges = family === 4 ? ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'] : ['fc00::/7'];
  return ranges.some((r) => contains(parseCidr(r)!, ip));
}
