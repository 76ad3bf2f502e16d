/** True for a canonical IPv4 CIDR such as 10.244.1.0/24 (host bits zero). */
export function isIPv4Cidr(value: string): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!match) return false;
  // A leading zero (010.244.0.0) is octal to inet_aton and an error to Go's net.ParseCIDR (the CNI plugins).
  if (match.slice(1, 6).some((part) => part.length > 1 && part.startsWith('0'))) return false;
  const octets = match.slice(1, 5).map(Number);
  const bits = Number(match[5]);
  if (octets.some((o) => o > 255) || bits > 32) return false;
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const hostBits = 2 ** (32 - bits);
  return address % hostBits === 0;
}

/** Ranges no pod network may use (RFC 6890): "this network", loopback, multicast, reserved. */
const SPECIAL: readonly [string, number, number][] = [
  ['0.0.0.0/8', 0, 8],
  ['127.0.0.0/8', 127 * 2 ** 24, 8],
  ['224.0.0.0/4 (multicast)', 224 * 2 ** 24, 4],
  ['240.0.0.0/4 (reserved)', 240 * 2 ** 24, 4],
];

/** The special-purpose range a canonical IPv4 CIDR overlaps, or undefined. */
export function specialRange(cidr: string): string | undefined {
  const [ip, bitsText] = cidr.split('/') as [string, string];
  const start = ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const end = start + 2 ** (32 - Number(bitsText)) - 1;
  for (const [name, base, bits] of SPECIAL) {
    const last = base + 2 ** (32 - bits) - 1;
    if (start <= last && end >= base) return name;
  }
  return undefined;
}
