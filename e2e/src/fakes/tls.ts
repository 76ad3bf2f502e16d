// Throwaway self-signed TLS material for the fake servers (fake ARM, fake Entra, fake Kubernetes API).
// The certificate is its own CA: trust it with NODE_EXTRA_CA_CERTS=<certPath> in a child process, or with
// `trustAgent()` / `trustPolicy()` inside the test process (NODE_EXTRA_CA_CERTS is read only at start-up).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface FakeTls {
  key: string;
  cert: string;
  certPath: string;
  keyPath: string;
  dir: string;
}

const cache = new Map<string, Promise<FakeTls>>();
const dirs: string[] = [];
process.once('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function sanEntry(s: string): string {
  return isIP(s) ? `IP:${s}` : `DNS:${s}`;
}

/** A self-signed cert for 127.0.0.1/localhost plus `extraSans` (IPs or DNS names); cached per process and SAN set. */
export function fakeTls(extraSans: string[] = []): Promise<FakeTls> {
  const sans = [...new Set(['127.0.0.1', 'localhost', ...extraSans])].sort();
  const cacheKey = sans.join(',');
  let p = cache.get(cacheKey);
  if (!p) {
    p = generate(sans);
    p.catch(() => cache.delete(cacheKey));
    cache.set(cacheKey, p);
  }
  return p;
}

async function generate(sans: string[]): Promise<FakeTls> {
  const dir = mkdtempSync(join(tmpdir(), 'fake-tls-'));
  dirs.push(dir);
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  // Argument array, no shell: SANs come from callers.
  await execFileP('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    `subjectAltName=${sans.map(sanEntry).join(',')}`,
    '-keyout',
    keyPath,
    '-out',
    certPath,
  ]);
  return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), certPath, keyPath, dir };
}

/** An https.Agent that trusts `ca` (in addition to nothing else: the fakes are the only peers). */
export function trustAgent(ca: string | Buffer): https.Agent {
  return new https.Agent({ ca, keepAlive: false });
}

/**
 * An Azure core-rest-pipeline policy (structurally typed: no Azure import here) that routes requests through an
 * agent trusting `ca`. Pass as `additionalPolicies: [{ policy: trustPolicy(ca), position: 'perCall' }]` to SDK
 * clients and to @azure/identity credentials so the test process itself can talk to the fakes.
 */
export function trustPolicy(ca: string | Buffer): {
  name: string;
  sendRequest<Req extends { agent?: unknown }, Res>(req: Req, next: (r: Req) => Promise<Res>): Promise<Res>;
} {
  const agent = trustAgent(ca);
  return {
    name: 'fakeCaTrustPolicy',
    sendRequest(req, next) {
      req.agent ??= agent;
      return next(req);
    },
  };
}
