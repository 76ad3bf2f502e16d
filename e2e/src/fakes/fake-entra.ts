// FAKE Microsoft Entra ID (AAD) token endpoint, for the real @azure/identity ClientSecretCredential pointed at it
// with `{ authorityHost: fake.url, disableInstanceDiscovery: true }`. Only client_credentials is served over HTTP;
// a user's sign-in (device code, browser) is not: `userToken()` mints the token such a sign-in would return.
// Tokens are v1 access tokens (JWTs) signed by the tenant's fake key (./jwt.ts), with the claims guard reads:
// aud, iss, tid, oid, upn (users only), idtyp=app (applications), exp. The JWKS is served at
// /{tenant}/discovery/v2.0/keys like Entra's.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { audienceOf, entraJwks, issueEntraToken } from './jwt.js';
import { FakeServer, type RecordedRequest } from './server-base.js';
import { fakeTls } from './tls.js';

export interface FakeEntraClient {
  clientId: string;
  clientSecret: string;
  /** Object id of the service principal (what ARM puts in AuthorizationFailed messages). */
  objectId?: string;
}

export interface FakeEntraOptions {
  host?: string;
  port?: number;
  /** Accepted client id/secret pairs. */
  clients?: FakeEntraClient[];
  /** When set, other tenants get AADSTS90002 (tenant not found). */
  tenantId?: string;
  tokenLifetimeSec?: number;
}

export interface IssuedEntraToken {
  token: string;
  clientId: string;
  objectId: string;
  tenantId: string;
  scope: string;
  /** The `aud` claim (the scope without `/.default`). */
  audience: string;
  /** Set for user tokens. */
  upn?: string;
  expiresOn: number;
}

export interface FakeEntraUser {
  /** Sign-in name (`upn` claim), e.g. alice@contoso.example. */
  upn: string;
  objectId?: string;
  /** Security group object ids (`groups` claim). */
  groups?: string[];
}

/** Client id of the Azure CLI (what `az login` and kubelogin's devicecode flow sign users in with). */
export const AZURE_CLI_APP_ID = '04b07795-8ddf-461a-bbee-02f9e1bf7b46';

export class FakeEntra extends FakeServer {
  readonly issued: IssuedEntraToken[] = [];
  readonly clients: Required<FakeEntraClient>[];
  certPath = '';
  cert = '';

  private constructor(private readonly opts: FakeEntraOptions) {
    super('fake-entra');
    this.clients = (opts.clients ?? []).map((c) => ({ objectId: randomUUID(), ...c }));
  }

  static async start(opts: FakeEntraOptions = {}): Promise<FakeEntra> {
    const f = new FakeEntra(opts);
    const tls = await fakeTls(opts.host && opts.host !== '127.0.0.1' ? [opts.host] : []);
    f.certPath = tls.certPath;
    f.cert = tls.cert;
    await f.listen(opts.host ?? '127.0.0.1', opts.port ?? 0, tls);
    return f;
  }

  /** authorityHost for credentials. */
  get authorityHost(): string {
    return this.url;
  }

  addClient(c: FakeEntraClient): Required<FakeEntraClient> {
    const full = { objectId: randomUUID(), ...c };
    this.clients.push(full);
    return full;
  }

  /** The token's record, if this fake issued it and it has not expired. */
  lookup(token: string): IssuedEntraToken | undefined {
    const t = this.issued.find((x) => x.token === token);
    return t && t.expiresOn > Date.now() / 1000 ? t : undefined;
  }

  isIssued(token: string): boolean {
    return !!this.lookup(token);
  }

  /**
   * The access token a user's interactive sign-in (device code through the Azure CLI's app) would return for
   * `scope`, e.g. `6dae42f8-4368-4678-94ff-3960e28e3630/.default` for AKS. Username in AKS: the upn.
   */
  userToken(user: FakeEntraUser, scope: string, tenantId = this.opts.tenantId ?? randomUUID()): IssuedEntraToken {
    const lifetime = this.opts.tokenLifetimeSec ?? 3599;
    const objectId = user.objectId ?? randomUUID();
    const { token, claims } = issueEntraToken({
      tenantId,
      audience: audienceOf(scope),
      objectId,
      appId: AZURE_CLI_APP_ID,
      lifetimeSec: lifetime,
      upn: user.upn,
      groups: user.groups,
    });
    const issued: IssuedEntraToken = {
      token,
      clientId: AZURE_CLI_APP_ID,
      objectId,
      tenantId,
      scope,
      audience: String(claims.aud),
      upn: user.upn,
      expiresOn: Number(claims.exp),
    };
    this.issued.push(issued);
    return issued;
  }

  protected handle(rec: RecordedRequest, _req: IncomingMessage, res: ServerResponse): void {
    const m = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token|discovery\/v2\.0\/keys)$/.exec(rec.path);
    if (!m) return this.sendError(res, rec, 404, 'invalid_request', `AADSTS90000: fake Entra has no endpoint ${rec.path}`);
    const tenant = decodeURIComponent(m[1]);
    if (this.opts.tenantId && tenant !== this.opts.tenantId) {
      return this.sendError(
        res,
        rec,
        400,
        'invalid_tenant',
        `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    }
    if (m[2].startsWith('v2.0') && rec.method === 'GET') return this.sendJson(res, 200, this.openIdConfig(tenant));
    if (m[2].startsWith('discovery') && rec.method === 'GET') return this.sendJson(res, 200, entraJwks(tenant));
    if (m[2].startsWith('oauth2') && rec.method === 'POST') return this.token(rec, res, tenant);
    this.sendError(res, rec, 405, 'invalid_request', `AADSTS900561: The endpoint only accepts ${m[2].startsWith('v2.0') ? 'GET' : 'POST'} requests.`);
  }

  private openIdConfig(tenant: string): unknown {
    const base = `${this.url}/${tenant}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${this.url}/${tenant}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${this.url}/${tenant}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${this.url}/oidc/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'oid'],
      tenant_region_scope: 'NA',
      cloud_instance_name: 'fake.entra.invalid',
    };
  }

  private token(rec: RecordedRequest, res: ServerResponse, tenant: string): void {
    const form = new URLSearchParams(rec.body);
    if (form.get('grant_type') !== 'client_credentials') {
      return this.sendError(
        res,
        rec,
        400,
        'unsupported_grant_type',
        `AADSTS70003: The app requested an unsupported grant type '${form.get('grant_type')}'. (fake Entra serves client_credentials only)`,
      );
    }
    const clientId = form.get('client_id') ?? '';
    const client = this.clients.find((c) => c.clientId === clientId);
    if (!client) {
      // 400 unauthorized_client, not invalid_client (Azure/azure-sdk-for-python#8314, microsoft/AzureTRE#1475 show
      // the real body); the secret's check below is the 401 invalid_client one.
      return this.sendError(
        res,
        rec,
        400,
        'unauthorized_client',
        `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    }
    if (form.get('client_secret') !== client.clientSecret) {
      return this.sendError(
        res,
        rec,
        401,
        'invalid_client',
        `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
      );
    }
    const lifetime = this.opts.tokenLifetimeSec ?? 3599;
    const scope = (form.get('scope') ?? '').split(' ').find((x) => x.endsWith('/.default')) ?? form.get('scope') ?? '';
    const { token, claims } = issueEntraToken({
      tenantId: tenant,
      audience: audienceOf(scope),
      objectId: client.objectId,
      appId: clientId,
      lifetimeSec: lifetime,
    });
    this.issued.push({ token, clientId, objectId: client.objectId, tenantId: tenant, scope, audience: String(claims.aud), expiresOn: Number(claims.exp) });
    this.sendJson(res, 200, { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: token });
  }

  protected errorBody(status: number, _rec: RecordedRequest, code?: string, message?: string): unknown {
    const desc = message ?? `AADSTS50000: fake Entra error ${status}.`;
    const aadsts = Number(/AADSTS(\d+)/.exec(desc)?.[1] ?? 50000);
    const trace = randomUUID();
    const corr = randomUUID();
    const ts = new Date()
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, 'Z');
    return {
      error: code ?? (status === 401 ? 'invalid_client' : status >= 500 ? 'temporarily_unavailable' : 'invalid_request'),
      error_description: `${desc}\r\nTrace ID: ${trace}\r\nCorrelation ID: ${corr}\r\nTimestamp: ${ts}`,
      error_codes: [aadsts],
      timestamp: ts,
      trace_id: trace,
      correlation_id: corr,
      error_uri: `${this.url}/error?code=${aadsts}`,
    };
  }
}
