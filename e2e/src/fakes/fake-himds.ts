// FAKE Azure Arc Hybrid Instance Metadata Service (HIMDS): the local identity endpoint the Arc agent serves on
// 127.0.0.1:40342. Challenge-response like the real one: 401 + `WWW-Authenticate: Basic realm=<key file>`, then
// the retry carries `Authorization: Basic <file content>` and gets a token.
//
// msal-node only accepts a realm of exactly /var/opt/azcmagent/tokens/<name>.key, so the fake writes the key into
// `keyDir` (a host directory) and advertises it under `realmDir` (default /var/opt/azcmagent/tokens): tests run the
// code under test in a private mount namespace with keyDir's grandparent bind-mounted on /var/opt.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { FakeServer, type RecordedRequest } from './server-base.js';

export interface FakeHimdsOptions {
  /** Host directory the key files are written to (seen as `realmDir` by the process under test). */
  keyDir: string;
  realmDir?: string;
  host?: string;
  port?: number;
  tokenLifetimeSec?: number;
  /** principalId of the machine identity (recorded with tokens; default a fresh GUID). */
  principalId?: string;
}

export interface IssuedHimdsToken {
  token: string;
  resource: string;
  expiresOn: number;
}

export class FakeHimds extends FakeServer {
  readonly issued: IssuedHimdsToken[] = [];
  readonly principalId: string;
  private readonly keys = new Map<string, string>(); // secret -> key file path

  private constructor(private readonly opts: FakeHimdsOptions) {
    super('fake-himds');
    this.principalId = opts.principalId ?? randomUUID();
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
    if (!resource) return this.sendError(res, rec, 400, 'invalid_request', 'Required query variable \'resource\' is missing');
    const auth = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!auth || !this.keys.has(auth)) return this.challenge(res);
    // One key per challenge, removed once used (like the real agent's token files).
    rmSync(this.keys.get(auth)!, { force: true });
    this.keys.delete(auth);
    const lifetime = this.opts.tokenLifetimeSec ?? 3600;
    const now = Math.floor(Date.now() / 1000);
    const token = `fake-himds.${randomBytes(24).toString('base64url')}`;
    this.issued.push({ token, resource, expiresOn: now + lifetime });
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

  private challenge(res: ServerResponse): void {
    const name = `${randomUUID()}.key`;
    const secret = randomBytes(32).toString('hex');
    const hostPath = join(this.opts.keyDir, name);
    writeFileSync(hostPath, secret, { mode: 0o600 });
    this.keys.set(secret, hostPath);
    const realm = `${(this.opts.realmDir ?? '/var/opt/azcmagent/tokens').replace(/\/$/, '')}/${name}`;
    this.sendJson(res, 401, { error: 'unauthorized', error_description: 'Use the key in the realm file to authenticate.' },
      { 'www-authenticate': `Basic realm=${realm}` });
  }

  protected errorBody(status: number, _rec: RecordedRequest, code?: string, message?: string): unknown {
    return { error: code ?? (status >= 500 ? 'server_error' : 'invalid_request'), error_description: message ?? `fake HIMDS error ${status}` };
  }
}
