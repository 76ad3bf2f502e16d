import type { Agent, ClientRequest, IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { noProxyMatches, proxyUrl } from '@flexnode/sdk';

// node:http(s) and node:tls with require, on first use: under Node 22+ an ES import of node:http also loads
// Node's internal undici (~30 ms), and most commands never download.
const require = createRequire(import.meta.url);
const http = () => require('node:http') as typeof import('node:http');
const https = () => require('node:https') as typeof import('node:https');
const tls = () => require('node:tls') as typeof import('node:tls');

/** Proxy settings: the config's values win, what they leave unset comes from HTTP(S)_PROXY and NO_PROXY. */
export interface ProxyConfig {
  http?: string;
  https?: string;
  noProxy?: string;
}

export interface HttpGetOptions {
  proxy?: ProxyConfig;
  /** No byte for this long (while connecting, waiting for headers or reading the body) fails the request. */
  idleTimeoutMs: number;
  /** The TCP (and proxy tunnel) connection must be up within this. */
  connectTimeoutMs: number;
  /** Keep-alive agents for direct connections (one pair per run, see {@link createAgents}). */
  agents?: Agents;
  /** Extra trusted CA certificates (tests); the system's are always trusted. */
  ca?: string | Buffer;
  /** Where HTTP_PROXY and the like are read (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * A network failure; `code` is Node's (ECONNREFUSED, ...) or one of IDLE_TIMEOUT, CONNECT_TIMEOUT, PROXY_REFUSED,
 * TOO_MANY_REDIRECTS, BAD_PROXY (a proxy setting that is no proxy URL: never worth a retry).
 */
export class HttpGetError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export interface Agents {
  http: Agent;
  https: Agent;
}

/** Keep-alive agents, so the artifacts of one run from one server share connections. Destroy them when done. */
export function createAgents(): Agents {
  return { http: new (http().Agent)({ keepAlive: true }), https: new (https().Agent)({ keepAlive: true }) };
}

/** `Not Found` for 404, and so on. */
export const statusText = (status: number): string | undefined => http().STATUS_CODES[status];

const MAX_REDIRECTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * GET `url` with node:http(s), following redirects (release downloads redirect to a CDN), through the proxy
 * the settings give for its scheme: an http URL as an absolute-URI request to the proxy, an https URL through
 * a CONNECT tunnel. Resolves with the final response, whatever its status; the caller reads or destroys it.
 * Plain node:http rather than undici: undici costs ~100 ms to load and moves bodies more slowly.
 */
export async function httpGet(url: string, options: HttpGetOptions): Promise<IncomingMessage> {
  let target = new URL(url);
  for (let redirects = 0; ; redirects++) {
    const response = await requestOnce(target, options);
    const location = response.headers.location;
    if (!REDIRECTS.has(response.statusCode ?? 0) || !location) return response;
    response.resume(); // drain: the connection can serve the next request
    if (redirects >= MAX_REDIRECTS) throw new HttpGetError(`more than ${MAX_REDIRECTS} redirects`, 'TOO_MANY_REDIRECTS');
    target = new URL(location, target);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new HttpGetError(`redirected to a ${target.protocol} URL`, 'BAD_REDIRECT');
  }
}

async function requestOnce(target: URL, options: HttpGetOptions): Promise<IncomingMessage> {
  const secure = target.protocol === 'https:';
  const proxy = proxyFor(target, options.proxy, options.env ?? process.env);
  const headers: Record<string, string> = { 'user-agent': 'flexnode', accept: '*/*' };
  let request: ClientRequest;
  if (!proxy) {
    request = (secure ? https() : http()).request(target, {
      headers,
      agent: secure ? options.agents?.https : options.agents?.http,
      ...(options.ca ? { ca: options.ca } : {}),
    });
  } else if (!secure) {
    // A plain HTTP request through the proxy: the absolute URL as the request target.
    request = (proxy.protocol === 'https:' ? https() : http()).request({
      host: proxy.hostname,
      port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80),
      path: target.href,
      headers: { ...headers, host: target.host, ...proxyAuthorization(proxy) },
      agent: false,
    });
  } else {
    const tunnel = await openTunnel(proxy, target, options);
    const socket = tls().connect({ socket: tunnel, servername: target.hostname, ...(options.ca ? { ca: options.ca } : {}) });
    request = https().request(target, { headers, createConnection: () => socket });
  }
  return new Promise<IncomingMessage>((resolve, reject) => {
    let response: IncomingMessage | undefined;
    guardConnect(request, options.connectTimeoutMs);
    // The socket's idle timeout also covers the body: the reader of the response gets this error, not a reset.
    request.setTimeout(options.idleTimeoutMs, () => {
      const error = new HttpGetError(`the server sent nothing for ${options.idleTimeoutMs / 1000} s`, 'IDLE_TIMEOUT');
      response?.destroy(error);
      request.destroy(error);
    });
    request.on('error', reject);
    request.on('response', (r: IncomingMessage) => resolve((response = r)));
    request.end();
  });
}

/** Fail the request when its socket does not connect in time (the idle timeout may be much longer). */
function guardConnect(request: ClientRequest, timeoutMs: number): void {
  request.on('socket', (socket: Socket) => {
    if (!socket.connecting) return; // a kept-alive or tunneled socket
    const timer = setTimeout(() => request.destroy(new HttpGetError('connection timed out', 'CONNECT_TIMEOUT')), timeoutMs);
    socket.once('connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
  });
}

/** A CONNECT tunnel through `proxy` to `target`'s host and port. */
function openTunnel(proxy: URL, target: URL, options: HttpGetOptions): Promise<Socket> {
  const authority = `${target.hostname}:${target.port || 443}`;
  return new Promise((resolve, reject) => {
    const request = (proxy.protocol === 'https:' ? https() : http()).request({
      host: proxy.hostname,
      port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...proxyAuthorization(proxy) },
      agent: false,
    });
    guardConnect(request, options.connectTimeoutMs);
    request.setTimeout(options.idleTimeoutMs, () =>
      request.destroy(new HttpGetError(`the proxy sent nothing for ${options.idleTimeoutMs / 1000} s`, 'IDLE_TIMEOUT')),
    );
    request.on('connect', (response: IncomingMessage, socket: Socket) => {
      request.setTimeout(0);
      if (response.statusCode === 200) return resolve(socket);
      socket.destroy();
      reject(new HttpGetError(`the proxy ${proxy.host} refused the tunnel to ${authority}: HTTP ${response.statusCode}`, 'PROXY_REFUSED'));
    });
    request.on('error', reject);
    request.end();
  });
}

function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}` };
}

/**
 * The proxy for `target`, if any: the config's (else HTTP_PROXY / HTTPS_PROXY; an https URL falls back to the
 * http proxy), unless NO_PROXY names the host. NO_PROXY entries, comma or space separated: `*` (everything),
 * a host or IP (itself and, for names, its subdomains), `.example.com` or `*.example.com` (subdomains), each
 * with an optional `:port`.
 */
export function proxyFor(target: URL, config: ProxyConfig | undefined, env: NodeJS.ProcessEnv): URL | undefined {
  const httpProxy = config?.http ?? env.http_proxy ?? env.HTTP_PROXY;
  const httpsProxy = config?.https ?? env.https_proxy ?? env.HTTPS_PROXY ?? httpProxy;
  const chosen = target.protocol === 'https:' ? httpsProxy : httpProxy;
  if (!chosen) return undefined;
  const noProxy = config?.noProxy ?? env.no_proxy ?? env.NO_PROXY ?? '';
  if (bypasses(target, noProxy)) return undefined;
  try {
    return proxyUrl(chosen);
  } catch (error) {
    throw new HttpGetError((error as Error).message, 'BAD_PROXY');
  }
}

function bypasses(target: URL, noProxy: string): boolean {
  return noProxyMatches(noProxy, target.hostname, target.port || (target.protocol === 'https:' ? '443' : '80'));
}
