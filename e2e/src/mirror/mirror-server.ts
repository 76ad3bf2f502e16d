// A local artifact mirror: serves a manifest's files by mirror path, with per-path fault injection and a
// request log, so tests can prove checksum checks, retries, timeouts and caching (nothing fetched twice).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Artifact } from './build-artifacts.js';

export type Fault =
  | 'corrupt' // full length, some bytes flipped: the sha256 check must catch it
  | 'truncate' // Content-Length of the whole file, half the bytes, then the socket is closed
  | 'notFound' // 404
  | 'stall' // headers sent, then nothing until the client or close() ends it
  | 'fail500'; // 500

/** Anything that maps a mirror path to a local file: an ArtifactManifest fits. */
export interface MirrorSource {
  lookup(mirrorPath: string): Pick<Artifact, 'file'> | undefined;
}

export interface MirrorRequest {
  method: string;
  path: string;
  status: number;
  fault?: Fault;
}

export interface MirrorServer {
  /** Base URL without trailing slash, e.g. http://10.231.0.1:41234 */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Full URL of a mirror path. */
  urlOf(mirrorPath: string): string;
  /** Sets (or with undefined clears) the fault for one mirror path. */
  setFault(mirrorPath: string, fault: Fault | undefined): void;
  clearFaults(): void;
  /** Every request in arrival order. */
  readonly log: readonly MirrorRequest[];
  /** GET count per path, e.g. to assert nothing was downloaded twice. */
  requests(): { path: string; count: number }[];
  count(mirrorPath: string): number;
  resetRequests(): void;
  /** Stops listening and destroys every open socket (stalled ones included). */
  close(): Promise<void>;
}

export interface MirrorOptions {
  /** Default 127.0.0.1. A machine in a box cannot reach loopback: bind machine.hostAddress or 0.0.0.0. */
  host?: string;
  port?: number;
}

export async function startMirror(source: MirrorSource, opts: MirrorOptions = {}): Promise<MirrorServer> {
  const faults = new Map<string, Fault>();
  const log: MirrorRequest[] = [];
  const sockets = new Set<Socket>();
  const key = (p: string) => decodeURIComponent(p.split('?')[0] ?? '').replace(/^\/+/, '');

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(e));
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = key(req.url ?? '/');
    const fault = faults.get(path);
    const entry: MirrorRequest = { method: req.method ?? 'GET', path, status: 200, ...(fault ? { fault } : {}) };
    log.push(entry);
    const artifact = source.lookup(path);
    if (fault === 'notFound' || !artifact) {
      entry.status = 404;
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}\n`);
      return;
    }
    if (fault === 'fail500') {
      entry.status = 500;
      res.writeHead(500, { 'content-type': 'text/plain' }).end('injected failure\n');
      return;
    }
    const { size } = await stat(artifact.file);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
    if (req.method === 'HEAD') return void res.end();
    if (fault === 'stall') {
      res.flushHeaders();
      return; // close() destroys the socket
    }
    if (fault === 'truncate') {
      const half = Math.floor(size / 2);
      const stream = half > 0 ? createReadStream(artifact.file, { start: 0, end: half - 1 }) : undefined;
      if (!stream) return void res.socket?.destroy();
      stream.on('data', (c) => res.write(c));
      stream.on('end', () => res.socket?.destroy());
      stream.on('error', () => res.destroy());
      return;
    }
    const stream = createReadStream(artifact.file);
    let first = true;
    stream.on('data', (chunk) => {
      const b = chunk as Buffer;
      if (fault === 'corrupt' && first) {
        // Flip bytes in the middle of the first chunk: same length, different hash.
        for (let i = Math.floor(b.length / 2); i < Math.min(b.length, Math.floor(b.length / 2) + 16); i++) b[i] = b[i]! ^ 0xff;
      }
      first = false;
      if (!res.write(b)) {
        stream.pause();
        res.once('drain', () => stream.resume());
      }
    });
    stream.on('end', () => res.end());
    stream.on('error', () => res.destroy());
    res.on('close', () => stream.destroy());
  }

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    host,
    port,
    urlOf: (p) => `${url}/${p.replace(/^\/+/, '')}`,
    setFault: (p, f) => (f ? faults.set(key(p), f) : faults.delete(key(p))),
    clearFaults: () => faults.clear(),
    log,
    requests() {
      const counts = new Map<string, number>();
      for (const r of log) if (r.method === 'GET') counts.set(r.path, (counts.get(r.path) ?? 0) + 1);
      return [...counts].map(([path, count]) => ({ path, count }));
    },
    count: (p) => log.filter((r) => r.method === 'GET' && r.path === key(p)).length,
    resetRequests: () => void log.splice(0),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
