// PKCS#10 certificate requests (RFC 2986) as the API server reads spec.request of a CertificateSigningRequest:
// parse the DER, check the signature with the request's own key (Go's x509.CertificateRequest.CheckSignature, which
// certificates validation calls), and expose subject CN/O, SANs and the key type for the signers' and approvers'
// checks. A small DER reader: only what PKCS#10 needs.
import { createPublicKey, verify } from 'node:crypto';

interface Tlv {
  tag: number;
  start: number;
  len: number;
  hdr: number;
  bytes: Buffer;
}

function tlv(buf: Buffer, at: number): Tlv {
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 4) throw new Error('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[at + 2 + i]!;
    hdr = 2 + n;
  }
  if (at + hdr + len > buf.length) throw new Error('truncated DER');
  return { tag, start: at, len, hdr, bytes: buf.subarray(at, at + hdr + len) };
}

function children(buf: Buffer, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = t.start + t.hdr; at < t.start + t.hdr + t.len;) {
    const c = tlv(buf, at);
    out.push(c);
    at += c.hdr + c.len;
  }
  return out;
}

function oid(b: Buffer): string {
  const parts = [Math.floor(b[0]! / 40), b[0]! % 40];
  let v = 0;
  for (const x of b.subarray(1)) {
    v = v * 128 + (x & 0x7f);
    if (!(x & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

const content = (buf: Buffer, t: Tlv) => buf.subarray(t.start + t.hdr, t.start + t.hdr + t.len);

const OID_CN = '2.5.4.3';
const OID_O = '2.5.4.10';
const OID_EXT_REQ = '1.2.840.113549.1.9.14';
const OID_SAN = '2.5.29.17';
const SIG_HASH: Record<string, string | null> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.3.101.112': null,
};

export interface ParsedCsr {
  commonName: string;
  organizations: string[];
  /** True when the request asks for any subjectAltName (DNS, IP, email or URI). */
  hasSans: boolean;
  keyType: string;
  signatureValid: boolean;
}

/** Parse and check a PEM CSR; throws with the reason when it is not one. */
export function parseCsr(pem: string): ParsedCsr {
  const m = /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([\s\S]+?)-----END (?:NEW )?CERTIFICATE REQUEST-----/.exec(pem);
  if (!m) throw new Error('PEM block type must be CERTIFICATE REQUEST');
  const der = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  const top = tlv(der, 0);
  const [info, alg, sig] = children(der, top);
  if (!info || !alg || !sig) throw new Error('asn1: structure error');
  const [, name, spki, attrs] = children(der, info);
  if (!name || !spki) throw new Error('asn1: structure error');
  let commonName = '';
  const organizations: string[] = [];
  for (const rdn of children(der, name)) {
    for (const atv of children(der, rdn)) {
      const [t, v] = children(der, atv);
      const id = oid(content(der, t!));
      const value = content(der, v!).toString('utf8');
      if (id === OID_CN) commonName = value;
      if (id === OID_O) organizations.push(value);
    }
  }
  let hasSans = false;
  if (attrs && attrs.tag === 0xa0) {
    for (const attr of children(der, attrs)) {
      const [t, set] = children(der, attr);
      if (oid(content(der, t!)) !== OID_EXT_REQ || !set) continue;
      for (const exts of children(der, set)) {
        for (const ext of children(der, exts)) {
          const [eid] = children(der, ext);
          if (oid(content(der, eid!)) === OID_SAN) hasSans = true;
        }
      }
    }
  }
  const key = createPublicKey({ key: spki.bytes, format: 'der', type: 'spki' });
  const sigAlg = oid(content(der, children(der, alg)[0]!));
  const hash = SIG_HASH[sigAlg];
  if (hash === undefined) throw new Error(`x509: cannot verify signature: algorithm unimplemented (${sigAlg})`);
  const sigBits = content(der, sig).subarray(1); // BIT STRING: skip the unused-bits byte
  const signatureValid = verify(hash, info.bytes, key, sigBits);
  return { commonName, organizations, hasSans, keyType: key.asymmetricKeyType ?? 'unknown', signatureValid };
}
