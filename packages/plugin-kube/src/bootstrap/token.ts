// Bootstrap tokens as the API server reads them (k8s.io/cluster-bootstrap token/api/types.go, token/util;
// plugin/pkg/auth/authenticator/token/bootstrap): a Secret `bootstrap-token-<id>` in kube-system of type
// bootstrap.kubernetes.io/token with token-id, token-secret, expiration (RFC 3339), usage-bootstrap-authentication
// "true" and auth-extra-groups (each `system:bootstrappers:...`). The token `<id>.<secret>` authenticates as
// `system:bootstrap:<id>` in `system:bootstrappers` and the extra groups. flexnode's tokens are not for signing the
// cluster-info ConfigMap (no usage-bootstrap-signing): a node needs authentication only.

export const TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
/** The only group flexnode's tokens carry besides system:bootstrappers; bindings.ts gives it CSR creation only. */
export const BOOTSTRAP_GROUP = 'system:bootstrappers:flexnode:default-node-token';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'flexnode' };
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const TOKEN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;

/** `n` characters of [a-z0-9], uniformly (bytes above the largest multiple of 36 are dropped). */
async function randomChars(n: number): Promise<string> {
  const { randomBytes } = await import('node:crypto'); // on first use: the plugin module loads on every CLI start
  let out = '';
  while (out.length < n) {
    for (const b of randomBytes(n * 2)) {
      if (b < 252 && out.length < n) out += ALPHABET[b % 36];
    }
  }
  return out;
}

export interface BootstrapToken {
  id: string;
  secret: string;
}

export async function newBootstrapToken(): Promise<BootstrapToken> {
  return { id: await randomChars(6), secret: await randomChars(16) };
}

export const tokenString = (t: BootstrapToken) => `${t.id}.${t.secret}`;

export function parseBootstrapToken(token: string): BootstrapToken | undefined {
  const m = TOKEN.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

export const tokenSecretName = (id: string) => `bootstrap-token-${id}`;

/** The Secret of a token for `nodeName`, valid until `expires` (RFC 3339, seconds). */
export function tokenSecret(token: BootstrapToken, nodeName: string, expires: Date): Record<string, unknown> {
  const b64 = (v: string) => Buffer.from(v).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: TOKEN_SECRET_TYPE,
    metadata: { name: tokenSecretName(token.id), namespace: 'kube-system', labels: { ...MANAGED_BY }, annotations: { 'flexnode.io/node': nodeName } },
    data: {
      'token-id': b64(token.id),
      'token-secret': b64(token.secret),
      expiration: b64(rfc3339(expires)),
      'usage-bootstrap-authentication': b64('true'),
      'auth-extra-groups': b64(BOOTSTRAP_GROUP),
      description: b64(`flexnode: TLS bootstrapping of the kubelet of node ${nodeName}`),
    },
  };
}

export const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');
