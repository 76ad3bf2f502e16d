// Authentication of the FAKE API server, in kube-apiserver's order (pkg/kubeapiserver/authenticator/config.go):
// x509 client certificates verified against the cluster CA (user = CN, groups = O), then bearer tokens: the static
// token file, bootstrap tokens (./bootstrap-tokens.ts), service-account tokens this server issued (TokenRequest),
// and Entra ID tokens the way AKS's guard webhook reads them (guard auth/providers/azure/azure.go: username = the
// `upn` claim, else the object id `oid`; extra oid = [oid]; groups from the `groups` claim; the token must verify
// against the tenant's keys with the AKS server application as audience). Every authenticated user gets
// system:authenticated (AuthenticatedGroupAdder). A bearer token nobody accepts is a 401.
import type { TLSSocket } from 'node:tls';
import { decodeJwt, newSigner, verifyEntraToken, verifyJwt, type JwtClaims } from '../jwt.js';
import { bootstrapTokenUser } from './bootstrap-tokens.js';
import type { KubeObject, UserInfo } from './types.js';

/** AKS's server application (the audience of every Entra token for AKS). */
export const AKS_SERVER_APP_ID = '6dae42f8-4368-4678-94ff-3960e28e3630';

export interface StaticToken {
  token: string;
  user: string;
  uid?: string;
  groups?: string[];
}

export interface AuthnLookups {
  secret(ns: string, name: string): KubeObject | undefined;
  serviceAccount(ns: string, name: string): KubeObject | undefined;
  pod(ns: string, name: string): KubeObject | undefined;
  /** The Entra tenant whose tokens this cluster accepts (undefined: not an Entra ID cluster). */
  entraTenant(): string | undefined;
}

export interface AuthnOutcome {
  user?: UserInfo;
  /** Why a presented credential was refused (logged in the audit, not sent to the client). */
  error?: string;
}

export class Authenticator {
  /** The service-account token signer (--service-account-signing-key-file). */
  readonly saSigner = newSigner('fake-kube-sa-rs256');

  constructor(
    private readonly lookups: AuthnLookups,
    private readonly staticTokens: StaticToken[],
    readonly saIssuer: string,
    readonly apiAudiences: string[],
  ) {}

  /** The request's user: its client certificate first, then its bearer token. */
  authenticate(socket: TLSSocket | undefined, bearer: string | undefined): AuthnOutcome {
    const fromCert = this.x509(socket);
    if (fromCert) return { user: withAuthenticated(fromCert) };
    if (bearer === undefined) return {};
    return this.token(bearer, this.apiAudiences);
  }

  /** A bearer token alone (TokenReview), for the given audiences (default the API server's). */
  token(token: string, audiences: string[] = this.apiAudiences): AuthnOutcome {
    const st = this.staticTokens.find((t) => t.token === token);
    if (st) return { user: withAuthenticated({ name: st.user, uid: st.uid, groups: st.groups ?? [], via: 'static-token' }) };
    const boot = bootstrapTokenUser(token, (name) => this.lookups.secret('kube-system', name));
    if (boot) return { user: withAuthenticated(boot) };
    const claims = decodeJwt(token)?.claims;
    if (claims?.iss === this.saIssuer) return this.serviceAccount(token, audiences);
    const tenant = this.lookups.entraTenant();
    if (claims && tenant && typeof claims.iss === 'string' && claims.iss.includes(tenant)) return this.entra(token, tenant);
    return { error: 'invalid bearer token' };
  }

  private x509(socket: TLSSocket | undefined): UserInfo | undefined {
    if (!socket || !socket.authorized) return undefined; // no certificate, or not signed by the cluster CA
    const cert = socket.getPeerCertificate();
    if (!cert?.subject) return undefined;
    const subj = cert.subject as unknown as Record<string, string | string[] | undefined>;
    const cn = subj.CN;
    const o = subj.O;
    return { name: Array.isArray(cn) ? cn[0]! : (cn ?? ''), groups: o === undefined ? [] : Array.isArray(o) ? o : [o], via: 'x509' };
  }

  /** guard: verify the Entra token, username = upn else oid, extra.oid, groups claim. */
  private entra(token: string, tenant: string): AuthnOutcome {
    const v = verifyEntraToken(token, tenant, AKS_SERVER_APP_ID);
    if (!v.ok) return { error: `failed to verify token for azure: ${v.why}` };
    const c = v.claims;
    const oid = typeof c.oid === 'string' ? c.oid : undefined;
    const username = typeof c.upn === 'string' ? c.upn : oid;
    if (!username) return { error: 'username: upn and objectID: oid claims not found' };
    const groups = Array.isArray(c.groups) ? c.groups.map(String) : [];
    return { user: withAuthenticated({ name: username, groups, extra: { oid: [oid ?? ''] }, via: 'entra' }) };
  }

  /** Service-account JWTs (pkg/serviceaccount/claims.go): bound objects must still exist with the same uid. */
  private serviceAccount(token: string, audiences: string[]): AuthnOutcome {
    const v = verifyJwt(token, (kid) => (kid === this.saSigner.kid ? this.saSigner.key : undefined), { issuer: this.saIssuer });
    if (!v.ok) return { error: `invalid bearer token, ${v.why}` };
    const c = v.claims;
    const tokenAud = Array.isArray(c.aud) ? c.aud.map(String) : [String(c.aud)];
    if (!tokenAud.some((a) => audiences.includes(a))) return { error: 'invalid bearer token, token audiences is invalid for the target audiences' };
    const k = c['kubernetes.io'] as
      | { namespace: string; serviceaccount: { name: string; uid: string }; pod?: { name: string; uid: string }; node?: { name: string; uid: string } }
      | undefined;
    if (!k) return { error: 'invalid bearer token, missing kubernetes.io claims' };
    const sa = this.lookups.serviceAccount(k.namespace, k.serviceaccount.name);
    if (!sa || sa.metadata.uid !== k.serviceaccount.uid)
      return { error: `invalid bearer token, service account ${k.namespace}/${k.serviceaccount.name} has been deleted` };
    const extra: Record<string, string[]> = { 'authentication.kubernetes.io/credential-id': [`JTI=${String(c.jti)}`] };
    if (k.pod) {
      const pod = this.lookups.pod(k.namespace, k.pod.name);
      if (!pod || pod.metadata.uid !== k.pod.uid) return { error: `invalid bearer token, pod ${k.namespace}/${k.pod.name} has been deleted` };
      extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
    }
    if (k.node) {
      extra['authentication.kubernetes.io/node-name'] = [k.node.name];
      extra['authentication.kubernetes.io/node-uid'] = [k.node.uid];
    }
    return {
      user: withAuthenticated({
        name: `system:serviceaccount:${k.namespace}:${k.serviceaccount.name}`,
        uid: k.serviceaccount.uid,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${k.namespace}`],
        extra,
        via: 'service-account',
      }),
    };
  }

  /** Sign a service-account token (TokenRequest); the caller has validated the request. */
  issueServiceAccountToken(claims: JwtClaims): string {
    return this.saSigner.sign(claims);
  }
}

function withAuthenticated(u: UserInfo): UserInfo {
  return u.groups.includes('system:authenticated') ? u : { ...u, groups: [...u.groups, 'system:authenticated'] };
}
