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
 */
export async function apiRequest(
  options: { server: string; caPem: string; credential?: KubeCredential; timeoutMs?: number },
  method: string,
  path: string,
  body?: RequestBody,
): Promise<ApiAnswer> {
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
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (data += d));
        res.on('end', () => {
          let parsed: Record<string, unknown>;
          try {
            parsed = data ? (JSON.parse(data) as Record<string, unknown>) : {};
          } catch {
            parsed = { message: data.slice(0, 500) };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
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
