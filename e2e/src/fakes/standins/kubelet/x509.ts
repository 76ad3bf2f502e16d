// DER encoding for what the kubelet makes itself with Go's crypto/x509 (the stand-in has node built-ins only, no
// openssl): a PKCS#10 certificate request (RFC 2986) for its client certificate, and the self-signed serving
// certificate it creates when none is configured (pkg/kubelet/certificate: `<hostname>@<timestamp>`). ECDSA P-256
// keys and ecdsa-with-SHA256, as the kubelet generates.
import { createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

const len = (n: number): Buffer => {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
};
const tlv = (tag: number, ...body: Buffer[]): Buffer => {
  const b = Buffer.concat(body);
  return Buffer.concat([Buffer.from([tag]), len(b.length), b]);
};
const seq = (...b: Buffer[]) => tlv(0x30, ...b);
const set = (...b: Buffer[]) => tlv(0x31, ...b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const bitString = (b: Buffer) => tlv(0x03, Buffer.from([0]), b);
const octets = (b: Buffer) => tlv(0x04, b);
/**
 * A non-negative INTEGER from big-endian bytes, in DER's minimal form (X.690 8.3.2: no leading 0x00 unless the next
 * byte's top bit is set). OpenSSL refuses any other ("asn1 encoding routines::illegal padding"): a random serial
 * starting 0x00 0x00-0x7f, one in 512, made a certificate no TLS server would load.
 */
export const int = (bytes: Buffer): Buffer => {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const b = bytes.subarray(start);
  return tlv(0x02, b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
};

function oid(s: string): Buffer {
  const [a, b, ...rest] = s.split('.').map(Number) as [number, number, ...number[]];
  const out = [a * 40 + b];
  for (const n of rest) {
    const chunk: number[] = [];
    let v = n;
    do {
      chunk.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    out.push(...chunk.map((c, i) => (i < chunk.length - 1 ? c | 0x80 : c)));
  }
  return tlv(0x06, Buffer.from(out));
}

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

/** A Name of O values then the CN, as Go's pkix.Name orders them. */
function name(cn: string, orgs: string[]): Buffer {
  return seq(...orgs.map((o) => set(seq(oid('2.5.4.10'), utf8(o)))), set(seq(oid('2.5.4.3'), utf8(cn))));
}

const pem = (type: string, der: Buffer) =>
  `-----BEGIN ${type}-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END ${type}-----\n`;

export function newEcKey(): { privateKey: KeyObject; keyPem: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, keyPem: privateKey.export({ type: 'sec1', format: 'pem' }).toString() };
}

/** A CSR for `cn` in organizations `orgs`, signed by the key. */
export function certificateRequest(key: KeyObject, cn: string, orgs: string[]): string {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const info = seq(int(Buffer.from([0])), name(cn, orgs), spki, tlv(0xa0));
  return pem('CERTIFICATE REQUEST', seq(info, ECDSA_SHA256, bitString(sign('sha256', info, key))));
}

function utcTime(d: Date): Buffer {
  const s = d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  return tlv(0x17, Buffer.from(s));
}

/** A self-signed serving certificate for the host names and IPs, valid for `days`. */
export function selfSignedServingCert(key: KeyObject, cn: string, hosts: string[], days = 365, serial = randomBytes(16)): string {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const subject = name(cn, []);
  const sans = seq(
    ...hosts.map((h) => {
      if (!isIP(h)) return tlv(0x82, Buffer.from(h));
      return tlv(0x87, Buffer.from(h.split('.').map(Number)));
    }),
  );
  const ext = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), octets(value));
  const extensions = tlv(
    0xa3,
    seq(
      ext('2.5.29.15', true, tlv(0x03, Buffer.from([5, 0xa0]))), // keyUsage: digitalSignature, keyEncipherment
      ext('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
      ext('2.5.29.19', true, seq()), // basicConstraints: CA:FALSE
      ext('2.5.29.17', false, sans),
    ),
  );
  const now = new Date();
  const tbs = seq(
    tlv(0xa0, int(Buffer.from([2]))),
    int(serial),
    ECDSA_SHA256,
    subject,
    seq(utcTime(new Date(now.getTime() - 60_000)), utcTime(new Date(now.getTime() + days * 86_400_000))),
    subject,
    spki,
    extensions,
  );
  return pem('CERTIFICATE', seq(tbs, ECDSA_SHA256, bitString(sign('sha256', tbs, key))));
}
