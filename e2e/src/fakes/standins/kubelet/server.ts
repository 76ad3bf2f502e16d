// The kubelet STAND-IN's HTTPS server (the real kubelet's :10250): x509 client certificates checked against
// authentication.x509.clientCAFile, bearer tokens through a TokenReview (authentication.webhook), and every request
// authorized with a SubjectAccessReview for nodes/<subresource> named after the node (authorization.mode Webhook;
// pkg/kubelet/server/auth.go: stats, metrics, log, spec, checkpoint, else proxy; verb from the HTTP method). It
// serves /healthz, /pods, /configz, /metrics and /stats/summary. These reviews are the kubelet's own calls to the API
// server, made with its identity: a node role without tokenreviews/subjectaccessreviews create fails here.
// TLS: tlsCertFile/tlsPrivateKeyFile, else a self-signed certificate in the cert dir (kubelet.crt, kubelet.key).
// Unlike the real kubelet, a port already in use is logged, not fatal (tests share the host's network).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { ApiClient } from './api.js';
import { log, type Dict } from './common.js';
import type { NodeSettings } from './flags.js';
import type { PodManager } from './pods.js';
import { newEcKey, selfSignedServingCert } from './x509.js';

interface Who {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

function servingPair(s: NodeSettings): { key: string; cert: string } {
  if (s.tlsCertFile && s.tlsPrivateKeyFile) return { cert: readFileSync(s.tlsCertFile, 'utf8'), key: readFileSync(s.tlsPrivateKeyFile, 'utf8') };
  const crt = join(s.certDir, 'kubelet.crt');
  const key = join(s.certDir, 'kubelet.key');
  if (!existsSync(crt) || !existsSync(key)) {
    mkdirSync(s.certDir, { recursive: true });
    const k = newEcKey();
    writeFileSync(key, k.keyPem, { mode: 0o600 });
    writeFileSync(crt, selfSignedServingCert(k.privateKey, `${s.name}@${Math.floor(Date.now() / 1000)}`, [s.name, ...s.nodeIps]), { mode: 0o644 });
  }
  return { cert: readFileSync(crt, 'utf8'), key: readFileSync(key, 'utf8') };
}

const SUBRESOURCES: [RegExp, string][] = [
  [/^\/stats(\/|$)/, 'stats'],
  [/^\/metrics(\/|$)/, 'metrics'],
  [/^\/logs(\/|$)/, 'log'],
  [/^\/spec(\/|$)/, 'spec'],
  [/^\/checkpoint(\/|$)/, 'checkpoint'],
];
const VERBS: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

export function startServer(s: NodeSettings, api: ApiClient, pods: PodManager): https.Server | undefined {
  if (!s.port) return undefined;
  const pair = servingPair(s);
  const clientCa = s.clientCaFile ? readFileSync(s.clientCaFile, 'utf8') : undefined;
  const server = https.createServer({ ...pair, ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: false } : {}) }, (req, res) => {
    void (async () => {
      const send = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
        res.writeHead(code, { 'content-type': type });
        res.end(body);
      };
      const path = new URL(req.url ?? '/', 'https://kubelet').pathname;
      const who = await authenticate(req.socket as TLSSocket, req.headers.authorization, api, s);
      if (!who) return send(401, 'Unauthorized');
      const verb = VERBS[req.method ?? 'GET'] ?? 'get';
      const subresource = SUBRESOURCES.find(([re]) => re.test(path))?.[1] ?? 'proxy';
      if (s.authzMode === 'Webhook') {
        const r = await api.call('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: who.name,
            ...(who.uid ? { uid: who.uid } : {}),
            groups: who.groups,
            ...(who.extra ? { extra: who.extra } : {}),
            resourceAttributes: { verb, version: 'v1', resource: 'nodes', subresource, name: s.name },
          },
        });
        if (!((r.json.status ?? {}) as Dict).allowed)
          return send(403, `Forbidden (user=${who.name}, verb=${verb}, resource=nodes, subresource=${subresource})`);
      }
      if (path === '/healthz') return send(200, 'ok');
      if (path === '/pods') return send(200, JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: pods.list() }), 'application/json');
      if (path === '/configz') return send(200, JSON.stringify({ kubeletconfig: { port: s.port, address: s.address } }), 'application/json');
      if (path.startsWith('/metrics'))
        return send(
          200,
          `# HELP kubelet_running_pods Number of pods that have a running pod sandbox\n# TYPE kubelet_running_pods gauge\nkubelet_running_pods ${pods.list().length}\n`,
        );
      if (path === '/stats/summary')
        return send(
          200,
          JSON.stringify({
            node: { nodeName: s.name },
            pods: pods.list().map((p) => ({ podRef: { name: p.metadata.name, namespace: p.metadata.namespace, uid: p.metadata.uid } })),
          }),
          'application/json',
        );
      send(404, '404 page not found');
    })().catch((e) => {
      log('E', `kubelet server: ${(e as Error).message}`);
      res.destroy();
    });
  });
  server.on('error', (e) =>
    log('E', `Failed to listen and serve on ${s.address}:${s.port}: ${(e as Error).message} (stand-in: continuing without its server)`),
  );
  server.on('tlsClientError', () => undefined);
  server.listen(s.port, s.address === '0.0.0.0' ? undefined : s.address, () => log('I', `Starting to listen address="${s.address}" port=${s.port}`));
  return server;
}

async function authenticate(socket: TLSSocket, authorization: string | undefined, api: ApiClient, s: NodeSettings): Promise<Who | undefined> {
  if (socket.authorized) {
    const subj = socket.getPeerCertificate().subject as unknown as Record<string, string | string[] | undefined>;
    const o = subj.O;
    return { name: String(Array.isArray(subj.CN) ? subj.CN[0] : (subj.CN ?? '')), groups: o === undefined ? [] : Array.isArray(o) ? o : [o] };
  }
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (token && s.webhookAuthn) {
    const r = await api.call('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token },
    });
    const st = (r.json.status ?? {}) as {
      authenticated?: boolean;
      user?: { username: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
    };
    if (st.authenticated && st.user) return { name: st.user.username, uid: st.user.uid, groups: st.user.groups ?? [], extra: st.user.extra };
    return undefined;
  }
  return s.anonymousAuth ? { name: 'system:anonymous', groups: ['system:unauthenticated'] } : undefined;
}
