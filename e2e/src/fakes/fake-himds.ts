// FAKE Azure Arc Hybrid Instance Metadata Service (HIMDS): the local identity endpoint the Arc agent serves on
// 127.0.0.1:40342. Challenge-response like the real one: 401 + `WWW-Authenticate: Basic realm=<key file>`, then
// the retry carries `Authorization: Basic <file content>` and gets a token.
//
// msal-node only accepts a realm of exactly /var/opt/azcmagent/tokens/<name>.key, so the fake writes the key into
// `keyDir` (a host directory) and advertises it under `realmDir` (default /var/opt/azcmagent/tokens): tests run the
// code under test in a private mount namespace with keyDir's grandparent bind-mounted on /var/opt.
// Tokens are Entra v1 access tokens (JWTs, ./jwt.ts) of the machine's system-assigned identity: oid = its
// principalId, aud = the resource asked for, idtyp=app, xms_mirid = the machine's resource id when known.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { audienceOf, FAKE_TENANT_ID, issueEntraToken } from './jwt.js';
import { FakeServer, type RecordedRequest } from './server-base.js';

export interface FakeHimdsOptions {
  /** Host directory the key files are written to (seen as `realmDir` by the process under test). */
  keyDir: string;
  realmDir?: string;
  host?: string;
  port?: number;
  tokenLifetimeSec?: number;
  /**
   * principalId (object id) of the machine's identity, or a function that reads it when a token is asked for (e.g.
   * from the fake ARM's machine after `azcmagent connect`; undefined there answers as a disconnected agent).
   * Default: a fresh GUID.
   */
  principalId?: string | (() => string | undefined);
  /** Tenant of the identity (default the fakes' tenant). */
  tenantId?: string;
  /** Resource id of the Arc machine (the token's xms_mirid). */
  machineResourceId?: string | (() => string | undefined);
}

export interface IssuedHimdsToken {
  token: string;
  resource: string;
  /** oid of the token. */
  principalId: string;
  expiresOn: number;
}

export class FakeHimds extends FakeServer {
  readonly issued: IssuedHimdsToken[] = [];
  readonly tenantId: string;
  private readonly fixedPrincipal = randomUUID();
  private readonly keys = new Map<string, string>(); // secret -> key file path

  private constructor(private readonly opts: FakeHimdsOptions) {
    super('fake-himds');
    this.tenantId = opts.tenantId ?? FAKE_TENANT_ID;
  }

  /** The identity's object id now (undefined: the machine is not connected). */
  get principalId(): string {
    return this.currentPrincipal() ?? '';
  }

  private currentPrincipal(): string | undefined {
    const p = this.opts.principalId;
    return typeof p === 'function' ? p() : (p ?? this.fixedPrincipal);
  }

  static async start(opts: FakeHimdsOptions): Promise<FakeHimds> {
    mkdirSync(opts.keyDir, { recursive: true, mode: 0o700 });
    const f = new FakeHimds(opts);
    await f.listen(opts.host ?? '127.0.0.1', opts.port ?? 0);
    return f;
  }

  /** IDENTITY_ENDPOINT / IMDS_ENDPOINT as the Arc agent sets them for services. */
  env(): { IDENTITY_ENDPOINT: string; IMDS_ENDPOINT: string } {
    return { IDENTITY_ENDPOINT: `${this.url}/metadata/identity/oauth2/token`, IMDS_ENDPOINT: this.url };
  }

  lookup(token: string): IssuedHimdsToken | undefined {
    const t = this.issued.find((x) => x.token === token);
    return t && t.expiresOn > Date.now() / 1000 ? t : undefined;
  }

  isIssued(token: string): boolean {
    return !!this.lookup(token);
  }

  override async stop(): Promise<void> {
    for (const p of this.keys.values()) rmSync(p, { force: true });
    await super.stop();
  }

  protected handle(rec: RecordedRequest, req: IncomingMessage, res: ServerResponse): void {
    if (rec.path !== '/metadata/identity/oauth2/token' || rec.method !== 'GET') {
      return this.sendError(res, rec, 404, 'not_found', `fake HIMDS has no endpoint ${rec.method} ${rec.path}`);
    }
    if (String(req.headers.metadata).toLowerCase() !== 'true') {
      return this.sendError(res, rec, 400, 'invalid_request', 'Required metadata header not specified');
    }
    if (!rec.apiVersion) return this.sendError(res, rec, 400, 'invalid_request', 'api-version parameter is missing');
    const resource = rec.query.resource;
    if (!resource) return this.sendError(res, rec, 400, 'invalid_request', "Required query variable 'resource' is missing");
    const auth = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!auth || !this.keys.has(auth)) return this.challenge(res);
    // One key per challenge, removed once used (like the real agent's token files).
    rmSync(this.keys.get(auth)!, { force: true });
    this.keys.delete(auth);
    const principalId = this.currentPrincipal();
    if (!principalId) {
      return this.sendError(
        res,
        rec,
        500,
        'identity_unavailable',
        'The managed identity is not available: the machine is not connected to Azure Arc (fake HIMDS).',
      );
    }
    const lifetime = this.opts.tokenLifetimeSec ?? 3600;
    const now = Math.floor(Date.now() / 1000);
    const mirid = typeof this.opts.machineResourceId === 'function' ? this.opts.machineResourceId() : this.opts.machineResourceId;
    const { token } = issueEntraToken({
      tenantId: this.tenantId,
      audience: audienceOf(resource),
      objectId: principalId,
      appId: this.clientIdOf(principalId),
      lifetimeSec: lifetime,
      miResourceId: mirid,
    });
    this.issued.push({ token, resource, principalId, expiresOn: now + lifetime });
    // Strings, as the real HIMDS answers.
    this.sendJson(res, 200, {
      access_token: token,
      expires_in: String(lifetime),
      expires_on: String(now + lifetime),
      ext_expires_in: String(lifetime),
      not_before: String(now),
      resource,
      token_type: 'Bearer',
    });
  }

  /** A stable client (application) id per identity, as every managed identity has one besides its object id. */
  private clientIdOf(principalId: string): string {
    const hex = Buffer.from(principalId).toString('hex').padEnd(32, '0').slice(0, 32);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }

  private challenge(res: ServerResponse): void {
    const name = `${randomUUID()}.key`;
    const secret = randomBytes(32).toString('hex');
    const hostPath = join(this.opts.keyDir, name);
    writeFileSync(hostPath, secret, { mode: 0o600 });
    this.keys.set(secret, hostPath);
    const realm = `${(this.opts.realmDir ?? '/var/opt/azcmagent/tokens').replace(/\/$/, '')}/${name}`;
    this.sendJson(
      res,
      401,
      { error: 'unauthorized', error_description: 'Use the key in the realm file to authenticate.' },
      { 'www-authenticate': `Basic realm=${realm}` },
    );
  }

  protected errorBody(status: number, _rec: RecordedRequest, code?: string, message?: string): unknown {
    return { error: code ?? (status >= 500 ? 'server_error' : 'invalid_request'), error_description: message ?? `fake HIMDS error ${status}` };
  }
}
