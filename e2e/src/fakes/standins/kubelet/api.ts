// The kubelet STAND-IN's API client: HTTPS with the kubeconfig's CA and credential, JSON in and out, watches
// (newline-delimited events), and the stand-in's rule that makes tests honest: a 401 (after one exec-plugin
// refresh, as client-go does) or a 403 is FATAL. The stand-in logs the exact call and the API server's message and
// exits 1, so a role that lacks something the kubelet needs fails the test instead of being papered over.
import https from 'node:https';
import { isIP } from 'node:net';
import { arch, die, kubeletVersion, type Dict } from './common.js';
import { loadKubeconfig, type ApiTarget } from './kubeconfig.js';

export interface ApiAnswer {
  status: number;
  json: Dict;
}

export class ApiClient {
  private agent: https.Agent;
  /** Every call made: method, path and status (tests read the stand-in's log instead). */
  calls = 0;

  /** `component`: who calls, for the User-Agent and the fatal message (the kubelet; kube-proxy's stand-in reuses this client). */
  constructor(
    private t: ApiTarget,
    private readonly kubeconfigPath?: string,
    private readonly component = 'kubelet',
  ) {
    this.agent = new https.Agent({ keepAlive: true, ...t.tls });
  }

  /** Re-read the kubeconfig (after the client certificate was rotated). */
  reload(): void {
    if (!this.kubeconfigPath) return;
    this.t = loadKubeconfig(this.kubeconfigPath);
    this.agent.destroy();
    this.agent = new https.Agent({ keepAlive: true, ...this.t.tls });
  }

  get target(): ApiTarget {
    return this.t;
  }

  /** A call whose 401/403 ends the kubelet. Network errors throw (callers retry). */
  async call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<ApiAnswer> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.t.creds.token(attempt > 0);
      const r = await this.once(method, path, token, body, contentType);
      this.calls++;
      if (r.status === 401 && attempt === 0 && this.t.creds.refreshable) continue;
      if (r.status === 401 || r.status === 403) {
        die(
          `"${method} ${path}" failed: HTTP ${r.status} ${String(r.json.reason ?? '')}: ${String(r.json.message ?? '')} (a ${this.component} cannot work with this identity)`,
        );
      }
      return r;
    }
  }

  /**
   * A watch: GET path?watch=1..., one JSON event per line. Resolves when the server ends it; rejects on network
   * errors. A 401/403 on the watch is fatal like any call; other non-200 answers resolve with the status.
   */
  async watch(path: string, onEvent: (e: { type: string; object: Dict }) => void, signal?: AbortSignal): Promise<number> {
    const token = await this.t.creds.token(false);
    return new Promise((resolve, reject) => {
      const req = https.request(this.options('GET', path, token), (res) => {
        if (res.statusCode !== 200) {
          let data = '';
          res.on('data', (d) => {
            data += d;
          });
          res.on('end', () => {
            let json: Dict = {};
            try {
              json = JSON.parse(data) as Dict;
            } catch {
              /* not JSON */
            }
            if (res.statusCode === 401 || res.statusCode === 403)
              die(
                `"GET ${path}" failed: HTTP ${res.statusCode} ${String(json.reason ?? '')}: ${String(json.message ?? '')} (a ${this.component} cannot work with this identity)`,
              );
            resolve(res.statusCode ?? 0);
          });
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buf += d;
          for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
            const line = buf.slice(0, i).trim();
            buf = buf.slice(i + 1);
            if (line) onEvent(JSON.parse(line) as { type: string; object: Dict });
          }
        });
        res.on('end', () => resolve(200));
        res.on('error', reject);
      });
      signal?.addEventListener('abort', () => req.destroy(new Error('watch stopped')));
      req.on('error', reject);
      req.end();
    });
  }

  private options(method: string, path: string, token: string | undefined, text?: string, contentType?: string): https.RequestOptions {
    const u = this.t.url;
    const host = u.hostname.replace(/^\[|\]$/g, '');
    return {
      agent: this.agent,
      method,
      host,
      port: u.port || 443,
      path: u.pathname.replace(/\/$/, '') + path,
      servername: isIP(host) ? undefined : host,
      headers: {
        accept: 'application/json',
        'user-agent': `${this.component}/${kubeletVersion()} (linux/${arch()}) kubernetes/stand-in`,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(text ? { 'content-type': contentType, 'content-length': Buffer.byteLength(text) } : {}),
      },
    };
  }

  private once(method: string, path: string, token: string | undefined, body: unknown, contentType: string): Promise<ApiAnswer> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((res, rej) => {
      const req = https.request({ ...this.options(method, path, token, text, contentType), timeout: 15000 }, (resp) => {
        let data = '';
        resp.on('data', (d) => {
          data += d;
        });
        resp.on('end', () => {
          let json: Dict;
          try {
            json = data ? (JSON.parse(data) as Dict) : {};
          } catch {
            json = { message: data };
          }
          res({ status: resp.statusCode ?? 0, json });
        });
      });
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', rej);
      req.end(text);
    });
  }
}

/** list then watch a collection forever (client-go's reflector): re-lists after the watch ends or on 410 Gone. */
export function informer(
  api: ApiClient,
  path: string,
  handlers: {
    onList(items: Dict[]): void;
    onEvent(type: string, object: Dict): void;
  },
  stopped: () => boolean,
  signal?: AbortSignal,
): void {
  const sep = path.includes('?') ? '&' : '?';
  void (async () => {
    let backoff = 500;
    while (!stopped()) {
      try {
        const l = await api.call('GET', path);
        if (l.status !== 200) throw new Error(`HTTP ${l.status}: ${String(l.json.message ?? '')}`);
        handlers.onList((l.json.items ?? []) as Dict[]);
        const rv = String(((l.json.metadata ?? {}) as Dict).resourceVersion ?? '');
        backoff = 500;
        const code = await api.watch(
          `${path}${sep}watch=1&resourceVersion=${rv}&timeoutSeconds=300&allowWatchBookmarks=true`,
          (e) => {
            if (e.type === 'ERROR') return;
            handlers.onEvent(e.type, e.object);
          },
          signal,
        );
        if (code !== 200 && code !== 410) throw new Error(`watch answered HTTP ${code}`);
      } catch (e) {
        if (stopped()) return;
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 10_000);
        void e;
      }
    }
  })();
}
