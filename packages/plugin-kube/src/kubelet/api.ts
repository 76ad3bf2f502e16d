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

/**
 * What maintenance needs besides: cordon (a merge patch of the Node), the pods bound to the node, the Eviction API,
 * the upgrade slots (Leases) and the API server's version. Each call is one the node identity's role must allow
 * (README, "Calls the node identity makes").
 */
export interface KubeApi extends NodeApi {
  /** PATCH nodes/<name>, `application/merge-patch+json`. */
  patchNode(name: string, patch: Record<string, unknown>): Promise<ApiAnswer>;
  /** GET pods in all namespaces with `fieldSelector=spec.nodeName=<node>`. */
  listNodePods(node: string): Promise<ApiAnswer>;
  /** POST pods/<name>/eviction (policy/v1 Eviction). */
  evictPod(namespace: string, name: string): Promise<ApiAnswer>;
  getLease(namespace: string, name: string): Promise<ApiAnswer>;
  createLease(namespace: string, lease: Record<string, unknown>): Promise<ApiAnswer>;
  /** PUT, with the resourceVersion it read (409 Conflict when someone else wrote it since). */
  updateLease(namespace: string, name: string, lease: Record<string, unknown>): Promise<ApiAnswer>;
  /** GET /version (readable by everyone). */
  version(): Promise<ApiAnswer>;
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

const LEASES = (namespace: string) => `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;

/** A KubeApi over node:https, trusting exactly the cluster CA. */
export function httpsNodeApi(options: NodeApiOptions): KubeApi {
  const call = async (method: string, path: string, body?: RequestBody) => apiRequest({ ...options, token: await options.token() }, method, path, body);
  const node = (name: string) => `/api/v1/nodes/${encodeURIComponent(name)}`;
  return {
    getNode: (name) => call('GET', node(name)),
    deleteNode: (name) => call('DELETE', node(name)),
    patchNode: (name, patch) => call('PATCH', node(name), { json: patch, contentType: 'application/merge-patch+json' }),
    listNodePods: (name) => call('GET', `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${name}`)}`),
    evictPod: (namespace, name) =>
      call('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/eviction`, {
        json: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } },
      }),
    getLease: (namespace, name) => call('GET', `${LEASES(namespace)}/${encodeURIComponent(name)}`),
    createLease: (namespace, lease) => call('POST', LEASES(namespace), { json: lease }),
    updateLease: (namespace, name, lease) => call('PUT', `${LEASES(namespace)}/${encodeURIComponent(name)}`, { json: lease }),
    version: () => apiRequest({ ...options, token: undefined }, 'GET', '/version'),
  };
}

/** A request body: JSON, sent as `application/json` unless told (a merge patch). */
export interface RequestBody {
  json: unknown;
  contentType?: string;
}

/**
 * One JSON request to the API server over node:https, trusting exactly the cluster CA; with a bearer token, or
 * anonymous without one (`/version` is readable by everyone: the `system:public-info-viewer` ClusterRole).
 */
export async function apiRequest(options: { server: string; caPem: string; token?: string; timeoutMs?: number }, method: string, path: string, body?: RequestBody): Promise<ApiAnswer> {
  const base = new URL(options.server);
  const https = (await import('node:https')).default; // on first use: the plugin module loads on every CLI start
  const host = base.hostname.replace(/^\[|\]$/g, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body.json));
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
          ...(payload ? { 'content-type': body!.contentType ?? 'application/json', 'content-length': String(payload.length) } : {}),
        },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (data += d));
        res.on('end', () => {
          let body: Record<string, unknown> = {};
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
    req.end(payload);
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
