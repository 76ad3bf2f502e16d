// Bootstrap tokens as the API server reads them (k8s.io/cluster-bootstrap: token/api/types.go, token/util,
// secret/util; plugin/pkg/auth/authenticator/token/bootstrap/bootstrap.go): a Secret `bootstrap-token-<id>` in
// kube-system of type bootstrap.kubernetes.io/token with token-id, token-secret, expiration (RFC 3339),
// usage-bootstrap-authentication ("true") and auth-extra-groups (comma separated, each system:bootstrappers:...).
// The token `<id>.<secret>` authenticates as system:bootstrap:<id> in system:bootstrappers plus the extra groups.
import { randomBytes } from 'node:crypto';
import type { KubeObject, UserInfo } from './types.js';

export const BOOTSTRAP_TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
export const BOOTSTRAP_TOKEN_PREFIX = 'bootstrap-token-';
export const BOOTSTRAP_DEFAULT_GROUP = 'system:bootstrappers';
const TOKEN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const GROUP = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;

const data = (s: KubeObject, key: string): string | undefined => {
  const d = (s.data as Record<string, string> | undefined)?.[key];
  return d === undefined ? undefined : Buffer.from(d, 'base64').toString('utf8');
};

/** The token's id and secret, or undefined when the string is not a bootstrap token. */
export function parseBootstrapToken(token: string): { id: string; secret: string } | undefined {
  const m = TOKEN.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** secret/util HasExpired: an unparseable expiration counts as expired. */
export function bootstrapSecretExpired(secret: KubeObject, at = Date.now()): boolean {
  const exp = data(secret, 'expiration');
  if (exp === undefined || exp === '') return false;
  const t = Date.parse(exp);
  return Number.isNaN(t) || t < at;
}

/** The user a bootstrap token authenticates as, or undefined (the authenticator then has no opinion). */
export function bootstrapTokenUser(token: string, getSecret: (name: string) => KubeObject | undefined): UserInfo | undefined {
  const t = parseBootstrapToken(token);
  if (!t) return undefined;
  const secret = getSecret(`${BOOTSTRAP_TOKEN_PREFIX}${t.id}`);
  if (!secret || secret.metadata.deletionTimestamp) return undefined;
  if (secret.type !== BOOTSTRAP_TOKEN_SECRET_TYPE || !secret.data) return undefined;
  if (data(secret, 'token-secret') !== t.secret) return undefined;
  if (data(secret, 'token-id') !== t.id) return undefined;
  if (bootstrapSecretExpired(secret)) return undefined;
  if (data(secret, 'usage-bootstrap-authentication') !== 'true') return undefined;
  const extra = (data(secret, 'auth-extra-groups') ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean);
  if (extra.some((g) => !GROUP.test(g))) return undefined; // GetGroups fails: the token is refused
  return { name: `system:bootstrap:${t.id}`, groups: [...new Set([BOOTSTRAP_DEFAULT_GROUP, ...extra])], via: 'bootstrap-token' };
}

export interface BootstrapTokenSpec {
  id?: string;
  secret?: string;
  /** Extra groups (each must start with system:bootstrappers:). */
  groups?: string[];
  /** Expiry (default 24 h, kubeadm's default TTL). */
  expires?: Date;
  usages?: ('authentication' | 'signing')[];
  description?: string;
}

/** The Secret for a bootstrap token, as `kubeadm token create` writes it; plus the token string. */
export function bootstrapTokenSecret(spec: BootstrapTokenSpec = {}): { token: string; secret: KubeObject } {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const rand = (n: number) => [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
  const id = spec.id ?? rand(6);
  const sec = spec.secret ?? rand(16);
  const b64 = (v: string) => Buffer.from(v).toString('base64');
  const usages = spec.usages ?? ['authentication', 'signing'];
  return {
    token: `${id}.${sec}`,
    secret: {
      apiVersion: 'v1',
      kind: 'Secret',
      type: BOOTSTRAP_TOKEN_SECRET_TYPE,
      metadata: { name: `${BOOTSTRAP_TOKEN_PREFIX}${id}`, namespace: 'kube-system' },
      data: {
        'token-id': b64(id),
        'token-secret': b64(sec),
        expiration: b64((spec.expires ?? new Date(Date.now() + 24 * 3600_000)).toISOString().replace(/\.\d+Z$/, 'Z')),
        ...Object.fromEntries(usages.map((u) => [`usage-bootstrap-${u}`, b64('true')])),
        ...(spec.groups?.length ? { 'auth-extra-groups': b64(spec.groups.join(',')) } : {}),
        ...(spec.description ? { description: b64(spec.description) } : {}),
      },
    },
  };
}
