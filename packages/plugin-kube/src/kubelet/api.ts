import { isIP } from 'node:net';

/** The answer of a Kubernetes API call. */
export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** The read-only Node lookup and the Node delete the kubelet step makes (plain HTTPS, no client library). */
export interface NodeApi {
  getNode(name: string): Promise<ApiAnswer>;
  deleteNode(name: string): Promise<ApiAnswer>;
}

export interface NodeApiOptions {
  /** The API server URL (from the kubeconfig). */
  server: string;
  /** PEM of the cluster CA: the only CA trusted for this connection. */
  caPem: string;
  /** A bearer token (the node identity's, for the AKS server application). */
  token: () => Promise<string>;
  timeoutMs?: number;
}

/** A NodeApi over node:https, trusting exactly the cluster CA. */
export function httpsNodeApi(options: NodeApiOptions): NodeApi {
  const call = async (method: string, path: string) => apiRequest({ ...options, token: await options.token() }, method, path);
  return {
    getNode: (name) => call('GET', `/api/v1/nodes/${encodeURIComponent(name)}`),
    deleteNode: (name) => call('DELETE', `/api/v1/nodes/${encodeURIComponent(name)}`),
  };
}

/**
 * One JSON request to the API server over node:https, trusting exactly the cluster CA; with a bearer token, or
 * anonymous without one (`/version` is readable by everyone: the `system:public-info-viewer` ClusterRole).
 */
export async function apiRequest(options: { server: string; caPem: string; token?: string; timeoutMs?: number }, method: string, path: string,
  body?: { json: unknown; contentType?: string }): Promise<ApiAnswer> {
  const base = new URL(options.server);
  const https = (await import('node:https')).default; // on first use: the plugin module loads on every CLI start
  const host = base.hostname.replace(/^\[|\]$/g, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const text = body === undefined ? undefined : JSON.stringify(body.json);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        method,
        host,
        port: base.port || 443,
        path: `${base.pathname.replace(/\/$/, '')}${path}`,
        ca: options.caPem,
        servername: isIP(host) ? undefined : host,
        agent: false,
        timeout: timeoutMs,
        headers: {
          accept: 'application/json',
          'user-agent': 'flexnode',
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(text !== undefined ? { 'content-type': body!.contentType ?? 'application/json', 'content-length': Buffer.byteLength(text) } : {}),
        },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (data += d));
        res.on('end', () => {
          let body: Record<string, unknown>;
          try {
            body = data ? (JSON.parse(data) as Record<string, unknown>) : {};
          } catch {
            body = { message: data.slice(0, 500) };
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${base.host} within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(text);
  });
}

/** Network errors mean "the cluster is not reachable from here", not "the node is broken". */
export function isUnreachable(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET'].includes(code ?? '') ||
    /no answer from/.test((error as Error).message ?? '');
}

/** The Ready condition of a Node object, if reported. */
export function readyCondition(node: Record<string, unknown>): { status: string; reason?: string; message?: string } | undefined {
  const conditions = ((node.status as { conditions?: unknown[] } | undefined)?.conditions ?? []) as { type?: string; status?: string; reason?: string; message?: string }[];
  const c = conditions.find((x) => x.type === 'Ready');
  return c ? { status: String(c.status), reason: c.reason, message: c.message } : undefined;
}
