// Shared plumbing for the fake servers: listen/stop, request recording and per-test fault injection.
// Each fake only routes requests and formats its own error bodies.
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path as sent (not normalised: a `//subscriptions` bug stays visible). */
  path: string;
  /** Path plus query string, as sent. */
  rawUrl: string;
  query: Record<string, string>;
  apiVersion?: string;
  headers: IncomingHttpHeaders;
  body: string;
  json?: unknown;
  hasBearer: boolean;
  bearer?: string;
  at: number;
  /** Status answered (set when the response ends). */
  status?: number;
  /** Milliseconds from the request's arrival (body read) to the end of the answer: the fake's own time. */
  ms?: number;
  /** True when a fault answered instead of the fake's normal logic. */
  faulted?: boolean;
}

export interface Fault {
  method?: string;
  /** RegExp tested against the path, or a case-insensitive substring of it. */
  pathMatch: RegExp | string;
  /** HTTP status to answer (default 500). */
  status?: number;
  /** How many matching requests the fault answers (default 1; Infinity for all). */
  times?: number;
  /** Sets `retry-after-ms` and `x-ms-retry-after-ms` (and a rounded-up `Retry-After`). */
  retryAfterMs?: number;
  /** Sets `Retry-After` in seconds. */
  retryAfterSec?: number;
  /** Replaces the fake's error body entirely. */
  body?: unknown;
  /** Error code / message inside the fake's usual error body. */
  code?: string;
  message?: string;
  headers?: Record<string, string>;
  /** Destroy the socket instead of answering. */
  dropConnection?: boolean;
}

export interface FaultHandle {
  readonly hits: number;
  readonly remaining: number;
  clear(): void;
}

interface ActiveFault extends Fault {
  hits: number;
  left: number;
}

export interface ErrorReply {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

export interface ListenTls {
  key: string;
  cert: string;
  /** Client certificates are requested and verified against this CA (the request still proceeds without one). */
  clientCa?: string;
}

export type Unreachable = 'refuse' | 'hang';

export abstract class FakeServer {
  readonly requests: RecordedRequest[] = [];
  url = '';
  protected server?: http.Server;
  private faults: ActiveFault[] = [];
  private sockets = new Set<Socket>();
  private listenArgs?: { host: string; port: number; tls?: ListenTls };
  private down?: Unreachable;
  private held: ServerResponse[] = [];

  protected constructor(protected readonly label: string) {}

  /** Answer one request; `rec` is already recorded and its body read. */
  protected abstract handle(rec: RecordedRequest, req: IncomingMessage, res: ServerResponse): void | Promise<void>;

  /** The fake's own error shape for a status (used by faults and by `sendError`). */
  protected abstract errorBody(status: number, rec: RecordedRequest, code?: string, message?: string): unknown;

  protected async listen(host: string, port: number, tls?: ListenTls): Promise<void> {
    this.listenArgs = { host, port, tls };
    const onReq = (req: IncomingMessage, res: ServerResponse) => void this.dispatch(req, res);
    const server = tls
      ? https.createServer({ key: tls.key, cert: tls.cert, ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false } : {}) }, onReq)
      : http.createServer(onReq);
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    // A TLS handshake failure (client distrusting the cert) must not crash the test process.
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const addr = server.address() as AddressInfo;
    const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    this.url = `${tls ? 'https' : 'http'}://${h}:${addr.port}`;
    this.log(`listening on ${this.url}`);
  }

  async stop(): Promise<void> {
    this.releaseHeld();
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /**
   * Make the server unreachable, as a network cut or a dead control plane would: 'refuse' closes the listener and
   * every connection (clients get ECONNREFUSED/ECONNRESET), 'hang' keeps accepting but never answers (clients time
   * out). `setReachable(true)` serves again on the same address.
   */
  async setReachable(reachable: true | false | Unreachable): Promise<void> {
    if (reachable === true) {
      const was = this.down;
      this.down = undefined;
      this.releaseHeld();
      if (was === 'refuse' && this.listenArgs) {
        const { host, tls } = this.listenArgs;
        const port = Number(new URL(this.url).port);
        await this.listen(host, port, tls);
      }
      return;
    }
    const mode: Unreachable = reachable === false ? 'refuse' : reachable;
    if (this.down) await this.setReachable(true);
    this.down = mode;
    if (mode === 'refuse') {
      const s = this.server;
      this.server = undefined;
      for (const sock of this.sockets) sock.destroy();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }

  /** Whether the server answers (see setReachable). */
  get reachable(): boolean {
    return !this.down;
  }

  private releaseHeld(): void {
    for (const r of this.held) r.destroy();
    this.held = [];
  }

  /** Answer the next matching request(s) with an error, a throttle or a dropped connection. */
  inject(fault: Fault): FaultHandle {
    const f: ActiveFault = { ...fault, hits: 0, left: fault.times ?? 1 };
    this.faults.push(f);
    return {
      get hits() {
        return f.hits;
      },
      get remaining() {
        return f.left;
      },
      clear: () => {
        this.faults = this.faults.filter((x) => x !== f);
      },
    };
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Requests whose path matches (RegExp, or case-insensitive substring). */
  requestsTo(match: RegExp | string, method?: string): RecordedRequest[] {
    return this.requests.filter((r) => matches(match, r.path) && (!method || r.method === method.toUpperCase()));
  }

  protected log(msg: string): void {
    if (process.env.FAKE_DEBUG) process.stderr.write(`[${this.label}] ${msg}\n`);
  }

  protected sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
      ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
      'content-length': Buffer.byteLength(text).toString(),
      ...headers,
    });
    res.end(text);
  }

  protected sendError(res: ServerResponse, rec: RecordedRequest, status: number, code?: string, message?: string, headers: Record<string, string> = {}): void {
    this.sendJson(res, status, this.errorBody(status, rec, code, message), headers);
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.down === 'hang') {
      this.held.push(res);
      return;
    }
    const rec = await this.record(req);
    res.on('finish', () => {
      rec.status = res.statusCode;
      rec.ms = Date.now() - rec.at;
      this.log(`${rec.method} ${rec.rawUrl} -> ${res.statusCode}${rec.faulted ? ' (injected)' : ''}`);
    });
    try {
      const fault = this.takeFault(rec);
      if (fault) return this.answerFault(fault, rec, req, res);
      await this.handle(rec, req, res);
    } catch (err) {
      this.log(`handler error: ${(err as Error).stack}`);
      if (!res.headersSent) this.sendError(res, rec, 500, 'InternalServerError', `${this.label}: ${(err as Error).message}`);
      else res.destroy();
    }
  }

  private async record(req: IncomingMessage): Promise<RecordedRequest> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    // `base + req.url`, not `new URL(req.url, base)`: a path starting with `//` would become a host.
    const u = new URL('http://fake' + (req.url ?? '/'));
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    let json: unknown;
    if (body && /json/i.test(req.headers['content-type'] ?? '')) {
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
    }
    const rec: RecordedRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: u.pathname,
      rawUrl: req.url ?? '/',
      query: Object.fromEntries(u.searchParams),
      apiVersion: u.searchParams.get('api-version') ?? undefined,
      headers: req.headers,
      body,
      json,
      hasBearer: !!m,
      bearer: m?.[1],
      at: Date.now(),
    };
    this.requests.push(rec);
    return rec;
  }

  private takeFault(rec: RecordedRequest): ActiveFault | undefined {
    const f = this.faults.find((x) => x.left > 0 && (!x.method || x.method.toUpperCase() === rec.method) && matches(x.pathMatch, rec.path));
    if (!f) return undefined;
    f.left--;
    f.hits++;
    if (f.left <= 0) this.faults = this.faults.filter((x) => x !== f);
    rec.faulted = true;
    return f;
  }

  private answerFault(f: ActiveFault, rec: RecordedRequest, req: IncomingMessage, res: ServerResponse): void {
    if (f.dropConnection) {
      this.log(`${rec.method} ${rec.rawUrl} -> connection dropped (injected)`);
      req.socket.destroy();
      return;
    }
    const status = f.status ?? 500;
    const headers: Record<string, string> = { ...(f.headers ?? {}) };
    if (f.retryAfterMs !== undefined) {
      headers['retry-after-ms'] = String(f.retryAfterMs);
      headers['x-ms-retry-after-ms'] = String(f.retryAfterMs);
      headers['retry-after'] ??= String(Math.ceil(f.retryAfterMs / 1000));
    }
    if (f.retryAfterSec !== undefined) headers['retry-after'] = String(f.retryAfterSec);
    const body = f.body !== undefined ? f.body : this.errorBody(status, rec, f.code, f.message);
    this.sendJson(res, status, body, headers);
  }
}

export function matches(m: RegExp | string, path: string): boolean {
  return typeof m === 'string' ? path.toLowerCase().includes(m.toLowerCase()) : m.test(path);
}
