// JWTs for the fakes: compact JWS (RFC 7515) signed RS256, verified with the signer's public key.
// The FAKE Microsoft Entra ID keys live here, one RSA key per tenant per test process, so the fake Entra (client
// credentials, user sign-in) and the fake Arc HIMDS (managed identity) issue tokens that look and verify like
// Entra's: header {alg: RS256, kid, typ: JWT}, v1 claims (aud, iss https://sts.windows.net/<tid>/, iat, nbf, exp,
// oid, tid, sub, appid, idtyp, upn for users). The signature is real; the key is the fake's own (real Entra signs
// with the keys published at https://login.microsoftonline.com/<tid>/discovery/v2.0/keys), and `kid` says so.
// Source for the claims: Microsoft identity platform, "Access token claims reference" (v1.0 tokens).
import { createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';

export type JwtClaims = Record<string, unknown> & { exp?: number; nbf?: number; iat?: number; aud?: string | string[]; iss?: string };

export interface JwtSigner {
  kid: string;
  /** PEM of the public key (for a JWKS or a test). */
  publicKeyPem: string;
  sign(claims: JwtClaims): string;
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A fresh RS256 signer named `kid`. */
export function newSigner(kid: string): JwtSigner & { key: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    kid,
    key: publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign(claims) {
      const head = `${b64({ alg: 'RS256', kid, typ: 'JWT' })}.${b64(claims)}`;
      return `${head}.${sign('sha256', Buffer.from(head), privateKey).toString('base64url')}`;
    },
  };
}

/** The header and claims of a JWT-shaped string, unverified; undefined when it is not one. */
export function decodeJwt(token: string): { header: Record<string, unknown>; claims: JwtClaims } | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return { header: JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()), claims: JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()) };
  } catch {
    return undefined;
  }
}

export type JwtCheck = { ok: true; claims: JwtClaims } | { ok: false; why: string };

/**
 * Verify signature (with `keys[kid]`), time window (60 s leeway, as OIDC verifiers allow clock skew) and, when
 * given, issuer and audience: what go-oidc's IDTokenVerifier checks for guard.
 */
export function verifyJwt(token: string, keys: (kid: string) => KeyObject | undefined, expect: { issuer?: string; audience?: string } = {}): JwtCheck {
  const decoded = decodeJwt(token);
  if (!decoded) return { ok: false, why: 'malformed jwt' };
  const { header, claims } = decoded;
  if (header.alg !== 'RS256') return { ok: false, why: `unsupported signing algorithm ${String(header.alg)}` };
  const key = keys(String(header.kid ?? ''));
  if (!key) return { ok: false, why: `failed to verify signature: no key with kid ${String(header.kid)}` };
  const [h, p, s] = token.split('.');
  if (!verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s!, 'base64url'))) return { ok: false, why: 'failed to verify signature' };
  const now = Date.now() / 1000;
  if (typeof claims.exp === 'number' && claims.exp + 60 < now)
    return { ok: false, why: `token is expired (Token Expiry: ${new Date(claims.exp * 1000).toISOString()})` };
  if (typeof claims.nbf === 'number' && claims.nbf - 60 > now) return { ok: false, why: 'token is not valid yet' };
  if (expect.issuer && claims.iss !== expect.issuer)
    return { ok: false, why: `id token issued by a different provider, expected "${expect.issuer}" got "${String(claims.iss)}"` };
  if (expect.audience) {
    const auds = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!auds.includes(expect.audience)) return { ok: false, why: `expected audience "${expect.audience}" got ${JSON.stringify(claims.aud)}` };
  }
  return { ok: true, claims };
}

// ------------------------------------------------------------------ the fake Entra tenant keys

/** The tenant the fakes use when a test names none (fake ARM, fake HIMDS, fake Kubernetes API). */
export const FAKE_TENANT_ID = 'f00df00d-0000-4000-8000-0000000000aa';

const tenants = new Map<string, JwtSigner & { key: KeyObject }>();

/** The fake Entra signer of a tenant (created on first use; shared by the fake Entra and the fake HIMDS). */
export function entraSigner(tenantId: string): JwtSigner & { key: KeyObject } {
  const t = tenantId.toLowerCase();
  let s = tenants.get(t);
  if (!s) {
    s = newSigner(`fake-entra-${t.slice(0, 8)}-rs256`);
    tenants.set(t, s);
  }
  return s;
}

/** The v1 issuer Entra puts in access tokens for resources that accept v1 tokens (ARM, AKS's server app). */
export function entraIssuer(tenantId: string): string {
  return `https://sts.windows.net/${tenantId}/`;
}

/** `scope` (`<app>/.default`, `https://x/.default`) or v1 `resource` -> the token audience Entra writes. */
export function audienceOf(scopeOrResource: string): string {
  return scopeOrResource.replace(/\/\.default$/, '');
}

export interface EntraTokenRequest {
  tenantId: string;
  audience: string;
  objectId: string;
  /** Application (client) id of the caller: the app, or the managed identity's client id. */
  appId: string;
  lifetimeSec: number;
  /** A user's sign-in name: present only in user tokens. */
  upn?: string;
  /** Security group object ids (the `groups` claim). */
  groups?: string[];
  /** Managed identity resource id (xms_mirid). */
  miResourceId?: string;
}

/** A v1 access token as Entra issues it for the request, signed with the tenant's fake key. */
export function issueEntraToken(r: EntraTokenRequest): { token: string; claims: JwtClaims } {
  const now = Math.floor(Date.now() / 1000);
  const claims: JwtClaims = {
    aud: r.audience,
    iss: entraIssuer(r.tenantId),
    iat: now,
    nbf: now,
    exp: now + r.lifetimeSec,
    aio: randomUUID(),
    appid: r.appId,
    appidacr: r.upn ? '0' : '1',
    idp: entraIssuer(r.tenantId),
    ...(r.upn ? { upn: r.upn, unique_name: r.upn, name: r.upn.split('@')[0], scp: 'user.read' } : { idtyp: 'app' }),
    ...(r.groups?.length ? { groups: r.groups } : {}),
    ...(r.miResourceId ? { xms_mirid: r.miResourceId } : {}),
    oid: r.objectId,
    rh: 'fake',
    sub: r.objectId,
    tid: r.tenantId,
    uti: randomUUID().replace(/-/g, '').slice(0, 22),
    ver: '1.0',
  };
  return { token: entraSigner(r.tenantId).sign(claims), claims };
}

/** Verify a token of the fake Entra for `tenantId` (signature, expiry, issuer, audience). */
export function verifyEntraToken(token: string, tenantId: string, audience?: string): JwtCheck {
  const signer = entraSigner(tenantId);
  return verifyJwt(token, (kid) => (kid === signer.kid ? signer.key : undefined), { issuer: entraIssuer(tenantId), audience });
}

/** JWKS document of a tenant's fake key (what /{tenant}/discovery/v2.0/keys serves). */
export function entraJwks(tenantId: string): unknown {
  const s = entraSigner(tenantId);
  const jwk = createPublicKey(s.publicKeyPem).export({ format: 'jwk' });
  return { keys: [{ kty: 'RSA', use: 'sig', kid: s.kid, x5t: s.kid, n: jwk.n, e: jwk.e, issuer: `${entraIssuer(tenantId)}` }] };
}
