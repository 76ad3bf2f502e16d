import { isIP } from 'node:net';
import type { SecureContext } from 'node:tls';

/** The answer of a Kubernetes API call. */
export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** How a client authenticates to the API server: a bearer token, or a client certificate and its key (PEM). */
export type KubeCredential = { token: string } | { certPem: string; keyPem: string };

/** A request's body: JSON, sent as `application/json` unless told otherwise (a merge patch names its type). */
export interface RequestBody {
  json: unknown;
  contentType?: string;
}

/** JSON requests to one API server as one identity (plain HTTPS, no client library). */
export interface KubeClient {
  call(method: string, path: string, body?: RequestBody): Promise<ApiAnswer>;
}

/** Where a client connects and as whom. */
export interface NodeApiOptions {
  /** The API server URL (from the kubeconfig). */
  server: string;
  /** PEM of the cluster CA: the only CA trusted for this connection. */
  caPem: string;
  /** The identity's credential, asked for on every call (tokens expire, certificates rotate). */
  credential: () => Promise<KubeCredential>;
  timeoutMs?: number;
}

/** A KubeClient over node:https, trusting exactly the cluster CA. */
export function httpsKubeClient(options: NodeApiOptions): KubeClient {
  return { call: async (method, path, body) => apiRequest({ ...options, credential: await options.credential() }, method, path, body) };
}

/**
 * One JSON request to the API server over node:https, trusting exactly the cluster CA; with a bearer token or a
 * client certificate, or anonymous without one (`/version` is readable by everyone: `system:public-info-viewer`).
 * A GET made while the same GET (server, path, CA, credential) is in flight shares its answer: see sharedGets.
 */
export async function apiRequest(
  options: { server: string; caPem: string; credential?: KubeCredential; timeoutMs?: number },
  method: string,
  path: string,
  body?: RequestBody,
): Promise<ApiAnswer> {
  let raw: Promise<RawAnswer>;
  if (method === 'GET' && body === undefined) {
    const c = options.credential;
    const key = [options.server, path, options.caPem, options.timeoutMs, c && 'token' in c ? c.token : c ? `${c.certPem}\0${c.keyPem}` : ''].join('\0');
    const pending = sharedGets.get(key);
    if (pending) raw = pending;
    else {
      const sent = send(options, method, path);
      const forget = () => sharedGets.delete(key); // the key's only entry until then: set only when none is pending
      sent.then(forget, forget); // registered first: runs before any caller sees the answer
      sharedGets.set(key, sent);
      raw = sent;
    }
  } else {
    raw = send(options, method, path, body);
  }
  const { status, text } = await raw;
  let parsed: Record<string, unknown>;
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { message: text.slice(0, 500) };
  }
  return { status, body: parsed }; // parsed per caller: no caller sees another's changes
}

/** An answer as it came: the status and the body's text. */
interface RawAnswer {
  status: number;
  text: string;
}

/**
 * GETs in flight, by everything that shapes their answer. kube.node, kube.pod-cidr and kube.kubelet each read the
 * node's Node object, at once in `status` and in every agent cycle: the later ones wait for the first one's answer
 * instead of each opening a TLS connection (and the API server answering each). Only while in flight: an answer is
 * forgotten when it arrives, so no call gets one older than the request it joined.
 */
const sharedGets = new Map<string, Promise<RawAnswer>>();

async function send(
  options: { server: string; caPem: string; credential?: KubeCredential; timeoutMs?: number },
  method: string,
  path: string,
  body?: RequestBody,
): Promise<RawAnswer> {
  const base = new URL(options.server);
  const https = (await import('node:https')).default; // on first use: the plugin module loads on every CLI start
  const host = base.hostname.replace(/^\[|\]$/g, '');
  const c = options.credential;
  const secureContext = await secureContextFor(options.caPem, c && 'certPem' in c ? c : undefined);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body.json));
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        method,
        host,
        port: base.port || 443,
        path: `${base.pathname.replace(/\/$/, '')}${path}`,
        // tls.connect's option (https.request passes its options on; its type does not list it).
        ...({ secureContext } as object),
        servername: isIP(host) ? undefined : host,
        agent: false,
        timeout: timeoutMs,
        headers: {
          accept: 'application/json',
          'user-agent': 'flexnode',
          ...(c && 'token' in c ? { authorization: `Bearer ${c.token}` } : {}),
          ...(payload ? { 'content-type': body!.contentType ?? 'application/json', 'content-length': payload.length } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${base.host} within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * The TLS context trusting exactly `caPem` (and presenting the client pair, if any): made once per CA and pair, as
 * parsing them costs a few ms per request and a node's checks make several to the same server. A handful at most
 * (a cluster CA, rotated client certificates): the oldest is dropped beyond that.
 */
const secureContexts = new Map<string, SecureContext>();
async function secureContextFor(caPem: string, pair?: { certPem: string; keyPem: string }): Promise<SecureContext> {
  const id = `${caPem}\0${pair?.certPem ?? ''}\0${pair?.keyPem ?? ''}`;
  let context = secureContexts.get(id);
  if (!context) {
    const tls = (await import('node:tls')).default;
    context = tls.createSecureContext({ ca: caPem, ...(pair ? { cert: pair.certPem, key: pair.keyPem } : {}) });
    secureContexts.set(id, context);
    if (secureContexts.size > 8) secureContexts.delete(secureContexts.keys().next().value!);
  }
  return context;
}

/** Network errors mean "the cluster is not reachable from here", not "the node is broken". */
export function isUnreachable(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return (
    ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET'].includes(code ?? '') ||
    /no answer from/.test((error as Error).message ?? '')
  );
}

/** The Ready condition of a Node object, if reported. */
export function readyCondition(node: Record<string, unknown>): { status: string; reason?: string; message?: string } | undefined {
  const conditions = ((node.status as { conditions?: unknown[] } | undefined)?.conditions ?? []) as {
    type?: string;
    status?: string;
    reason?: string;
    message?: string;
  }[];
  const c = conditions.find((x) => x.type === 'Ready');
  return c ? { status: String(c.status), reason: c.reason, message: c.message } : undefined;
}
