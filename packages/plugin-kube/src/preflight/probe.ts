import type http from 'node:http';
import { createRequire } from 'node:module';
import { maskedUrl, noProxyMatches, proxyUrl } from '@flexnode/sdk';
import type { ProbeResult } from './checks.js';

// node:net, node:http(s) and node:tls are loaded where first used (the plugin module loads on every CLI start;
// https and tls only once an endpoint answers), with require: under Node 22+ an ES import of node:http also
// loads Node's internal undici for its WebSocket export (~30 ms).
const require = createRequire(import.meta.url);
const modules = {
  get http() {
    return require('node:http') as typeof import('node:http');
  },
  get https() {
    return require('node:https') as typeof import('node:https');
  },
  get tls() {
    return require('node:tls') as typeof import('node:tls');
  },
  get net() {
    return require('node:net') as typeof import('node:net');
  },
};

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

/**
 * GET `url` (http or https), through the proxy that applies to it (CONNECT for https), with a timeout. Any HTTP
 * answer counts as reachable; the Date header is returned for the clock check. TLS is verified against Node's
 * CAs (and NODE_EXTRA_CA_CERTS; `trust.ca` replaces them, for tests): a proxy that intercepts TLS without a
 * trusted CA is a failure worth reporting.
 */
export async function probeUrl(url: string, proxy: ProxySettings, timeoutMs = 5000, trust: { ca?: string } = {}): Promise<ProbeResult> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const port = target.port || (secure ? '443' : '80');
  const chosen = noProxyMatches(proxy.noProxy, target.hostname, port) ? undefined : secure ? (proxy.https ?? proxy.http) : proxy.http;
  const via = chosen ? ` via proxy ${maskedUrl(chosen)}` : '';
  try {
    const { status, date } = await request(target, chosen ? proxyUrl(chosen) : undefined, timeoutMs, trust.ca);
    return { ok: true, status, ...(date ? { date } : {}), via };
  } catch (error) {
    return { ok: false, error: (error as Error).message, via };
  }
}

const proxyAuth = (proxy: URL): Record<string, string> =>
  proxy.username
    ? { 'proxy-authorization': `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}` }
    : {};

/**
 * TLS over a connected socket, verified against `hostname` (SNI only for a name: RFC 6066 forbids addresses).
 * Made only once TCP is up: the TLS context (Node's root certificates: tens of ms on Node 20) is not paid for an
 * endpoint that does not resolve or does not answer.
 */
function tlsOver(socket: import('node:net').Socket, hostname: string, ca?: string) {
  return modules.tls.connect({ socket, host: hostname, servername: modules.net.isIP(hostname) ? undefined : hostname, ...(ca ? { ca } : {}) });
}

async function request(target: URL, proxy: URL | undefined, timeoutMs: number, ca: string | undefined): Promise<{ status: number; date?: string }> {
  const secure = target.protocol === 'https:';
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const port = Number(target.port || (secure ? 443 : 80));
  const path = `${target.pathname}${target.search}`;
  const sockets: import('node:net').Socket[] = [];
  const done = (res: http.IncomingMessage) => {
    res.resume();
    return { status: res.statusCode ?? 0, date: typeof res.headers.date === 'string' ? res.headers.date : undefined };
  };
  // GET over an open TCP socket (to the target, or a CONNECT tunnel through the proxy), with TLS for https. No
  // `agent` option: Node ignores createConnection when one is given (`agent: false` too makes a fresh Agent that
  // dials the target itself).
  const getOver = (socket: import('node:net').Socket, resolve: (r: { status: number; date?: string }) => void, fail: (e: Error) => void) => {
    const req = modules.https.request(
      {
        method: 'GET',
        host,
        port,
        path,
        headers: { 'user-agent': 'flexnode-doctor' },
        createConnection: () => {
          const secured = tlsOver(socket, host, ca);
          sockets.push(secured); // it owns the connection now: destroying the plain socket would not close it
          return secured;
        },
      },
      (res) => {
        resolve(done(res));
        socket.destroy();
      },
    );
    req.on('error', fail);
    req.end();
  };
  let timer: NodeJS.Timeout | undefined;
  const answer = new Promise<{ status: number; date?: string }>((resolve, reject) => {
    const fail = (e: Error) => reject(e);
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    if (!proxy && !secure) {
      const req = modules.http.request({ method: 'GET', host, port, path, agent: false, headers: { 'user-agent': 'flexnode-doctor' } }, (res) =>
        resolve(done(res)),
      );
      req.on('socket', (s) => sockets.push(s));
      req.on('error', fail);
      req.end();
      return;
    }
    if (!proxy) {
      const socket = modules.net.connect({ host, port });
      sockets.push(socket);
      socket.once('error', fail);
      socket.once('connect', () => getOver(socket, resolve, fail));
      return;
    }
    const proxyPort = Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80));
    if (!secure) {
      // Plain http through a proxy: absolute-form request line.
      const req = modules.http.request(
        { method: 'GET', host: proxy.hostname, port: proxyPort, path: target.toString(), agent: false, headers: { host: target.host, ...proxyAuth(proxy) } },
        (res) => resolve(done(res)),
      );
      req.on('socket', (s) => sockets.push(s));
      req.on('error', fail);
      req.end();
      return;
    }
    const connect = modules.http.request({
      method: 'CONNECT',
      host: proxy.hostname,
      port: proxyPort,
      path: `${target.hostname}:${port}`,
      agent: false,
      headers: { host: `${target.hostname}:${port}`, ...proxyAuth(proxy) },
    });
    connect.on('socket', (s) => sockets.push(s));
    connect.on('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new Error(`the proxy refused CONNECT ${target.hostname}:${port} with HTTP ${res.statusCode}`));
        return;
      }
      getOver(socket, resolve, fail);
    });
    connect.on('error', fail);
    connect.end();
  });
  // Whatever the outcome (an answer, an error, the caller's timeout), no socket is left to hold the process.
  return answer.finally(() => {
    clearTimeout(timer);
    for (const s of sockets) s.destroy();
  });
}
