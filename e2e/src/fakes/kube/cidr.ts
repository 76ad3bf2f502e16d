// IPv4 CIDR arithmetic for the fake's node-ipam allocator and service IP allocation.

export interface Cidr {
  base: number;
  bits: number;
}

export function parseCidr(s: string): Cidr {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s.trim());
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) throw new Error(`not an IPv4 CIDR: ${s}`);
  const ip = m.slice(1, 5).reduce((a, o) => a * 256 + Number(o), 0);
  const bits = Number(m[5]);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { base: (ip & mask) >>> 0, bits };
}

export function ipString(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

export function cidrString(c: Cidr): string {
  return `${ipString(c.base)}/${c.bits}`;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const size = (c: Cidr) => 2 ** (32 - c.bits);
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

/** The i-th subnet of size /maskBits inside `c`, or undefined past the end. */
export function subnet(c: Cidr, maskBits: number, i: number): Cidr | undefined {
  if (maskBits < c.bits) return undefined;
  const count = 2 ** (maskBits - c.bits);
  if (i >= count) return undefined;
  return { base: (c.base + i * 2 ** (32 - maskBits)) >>> 0, bits: maskBits };
}
