import type http from 'node:http';
import { createRequire } from 'node:module';
import type { ProbeResult } from './checks.js';

// node:http(s) and node:tls are loaded on first use (the plugin module loads on every CLI start), with require:
// under Node 22+ an ES import of node:http also loads Node's internal undici for its WebSocket export (~30 ms).
const require = createRequire(import.meta.url);
const net = async () => ({
  http: require('node:http') as typeof import('node:http'),
  https: require('node:https') as typeof import('node:https'),
  tls: require('node:tls') as typeof import('node:tls'),
});

/** Proxy settings: the config's `proxy` section, else the usual environment variables. */
export interface ProxySettings {
  http?: string;
  https?: string;
  noProxy?: string;
}

/** The config's proxy, completed from HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case) where it says nothing. */
export function effectiveProxy(config?: ProxySettings, env: NodeJS.ProcessEnv = process.env): ProxySettings {
  const pick = (...names: string[]) => names.map((n) => env[n]).find((v) => v !== undefined && v !== '');
  return {
    https: config?.https ?? pick('HTTPS_PROXY', 'https_proxy'),
    http: config?.http ?? pick('HTTP_PROXY', 'http_proxy'),
    noProxy: config?.noProxy ?? pick('NO_PROXY', 'no_proxy'),
  };
}

/** Whether `host` is exempt from the proxy by a NO_PROXY list (`*`, exact names or IPs, `.suffix` or `suffix`). */
export function bypassesProxy(host: string, noProxy: string | undefined): boolean {
  const name = host.replace(/^\[|\]$/g, '').toLowerCase();
  for (const raw of (noProxy ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)) {
    if (raw === '*') return true;
    const entry = raw.replace(/:\d+$/, '');
    if (name === entry.replace(/^\./, '')) return true;
    const suffix = entry.startsWith('.') ? entry : `.${entry}`;
    if (name.endsWith(suffix)) return true;
  }
  return false;
}

/**
 * GET `url` (http or https), through the proxy that applies to it (CONNECT for https), with a timeout. Any HTTP
 * answer counts as reachable; the Date header is returned for the clock check. TLS is verified (a proxy that
 * intercepts TLS without a trusted CA is a failure worth reporting).
 */
export async function probeUrl(url: string, proxy: ProxySettings, timeoutMs = 5000, tlsOptions: { ca?: string } = {}): Promise<ProbeResult> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const proxyUrl = bypassesProxy(target.hostname, proxy.noProxy) ? undefined : secure ? (proxy.https ?? proxy.http) : proxy.http;
  const via = proxyUrl ? ` via proxy ${redactUser(proxyUrl)}` : '';
  try {
    const { status, date } = await withTimeout(request(target, proxyUrl ? new URL(proxyUrl) : undefined, tlsOptions.ca), timeoutMs);
    return { ok: true, status, ...(date ? { date } : {}), via };
  } catch (error) {
    return { ok: false, error: (error as Error).message, via };
  }
}

const redactUser = (u: string) => {
  try {
    const p = new URL(u);
    if (p.username || p.password) {
      p.username = '***';
      p.password = '';
    }
    return p.toString().replace(/\/$/, '');
  } catch {
    return u;
  }
};

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e)),
    );
  });
}

const proxyAuth = (proxy: URL): Record<string, string> =>
  proxy.username ? { 'proxy-authorization': `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}` } : {};

/** `ca`: the only CA trusted (an API server's cluster CA), instead of the system's. */
async function request(target: URL, proxy: URL | undefined, ca?: string): Promise<{ status: number; date?: string }> {
  const { http, https, tls } = await net();
  const secure = target.protocol === 'https:';
  const port = Number(target.port || (secure ? 443 : 80));
  const path = `${target.pathname}${target.search}`;
  const done = (res: http.IncomingMessage) => {
    res.resume();
    return { status: res.statusCode ?? 0, date: typeof res.headers.date === 'string' ? res.headers.date : undefined };
  };
  return new Promise((resolve, reject) => {
    const fail = (e: Error) => reject(e);
    if (!proxy) {
      const req = (secure ? https : http).request({ method: 'GET', host: target.hostname.replace(/^\[|\]$/g, ''), port, path, agent: false, ...(ca ? { ca } : {}), headers: { 'user-agent': 'flexnode-doctor' } }, (res) => resolve(done(res)));
      req.on('error', fail);
      req.end();
      return;
    }
    const proxyPort = Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80));
    if (!secure) {
      // Plain http through a proxy: absolute-form request line.
      const req = http.request({ method: 'GET', host: proxy.hostname, port: proxyPort, path: target.toString(), agent: false, headers: { host: target.host, ...proxyAuth(proxy) } }, (res) => resolve(done(res)));
      req.on('error', fail);
      req.end();
      return;
    }
    const connect = http.request({ method: 'CONNECT', host: proxy.hostname, port: proxyPort, path: `${target.hostname}:${port}`, agent: false, headers: { host: `${target.hostname}:${port}`, ...proxyAuth(proxy) } });
    connect.on('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new Error(`the proxy refused CONNECT ${target.hostname}:${port} with HTTP ${res.statusCode}`));
        return;
      }
      const req = https.request(
        { method: 'GET', host: target.hostname, port, path, agent: false, ...(ca ? { ca } : {}), headers: { 'user-agent': 'flexnode-doctor' }, createConnection: () => tls.connect({ socket, servername: target.hostname, ...(ca ? { ca } : {}) }) },
        (r) => {
          resolve(done(r));
          socket.destroy();
        },
      );
      req.on('error', fail);
      req.end();
    });
    connect.on('error', fail);
    connect.end();
  });
}
