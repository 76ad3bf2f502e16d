// FAKE Kubernetes API server of an AKS cluster, over HTTPS with its own cluster CA: what ./kube/cluster.ts
// implements (authentication as AKS does, Node/RBAC/guard authorization, NodeRestriction, the registry, watches,
// reviews, TokenRequest, eviction with PDBs, CSR approval and signing, node IPAM), served to real clients, plus the
// test controls: credentials for any identity, seeding pods and PDBs as the control plane would, the audit log, and
// unreachability. See ./README.md for what is implemented and what is not.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AzureRbacSource } from './fake-arm.js';
import { resourceOfKind } from './kube/api-resources.js';
import { bootstrapTokenSecret, type BootstrapTokenSpec } from './kube/bootstrap-tokens.js';
import { ClusterCa, type IssuedCert } from './kube/cluster-ca.js';
import { KubeCluster, type KubeClusterOptions, type KubeReply } from './kube/cluster.js';
import { admit } from './kube/admission.js';
import { podReady } from './kube/controllers.js';
import { create, remove, type RestContext } from './kube/rest.js';
import { KubeError } from './kube/status.js';
import { tokenRequest } from './kube/subresources.js';
import { now } from './kube/store.js';
import type { AuditEvent, KubeObject, OwnerReference, UserInfo } from './kube/types.js';
import { FakeServer, type RecordedRequest } from './server-base.js';

export type { AuditEvent, KubeObject, UserInfo } from './kube/types.js';
export { AKS_SERVER_APP_ID } from './kube/authn.js';
export { dataActionOf, guardScope } from './kube/guard.js';

export interface FakeKubeApiOptions extends Partial<KubeClusterOptions> {
  host?: string;
  port?: number;
  /** Extra serving-certificate SANs (IPs or DNS names). */
  extraSans?: string[];
}

export interface SeedPod {
  name: string;
  namespace?: string;
  nodeName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Controller owner: a DaemonSet or ReplicaSet (created if missing, replicas counted), or any reference. */
  owner?: { kind: 'DaemonSet' | 'ReplicaSet' | 'StatefulSet' | string; name: string; apiVersion?: string; uid?: string };
  /** A mirror pod of a static pod on nodeName (owned by the Node, with the config.mirror annotation). */
  mirror?: boolean;
  /** Phase the pod is seen in (default Running) and whether it is Ready (default true while Running). */
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  ready?: boolean;
  image?: string;
  command?: string[];
  /** Spec fields merged over the defaults (volumes, serviceAccountName, automountServiceAccountToken...). */
  spec?: Record<string, unknown>;
}

export interface SeedPdb {
  name: string;
  namespace?: string;
  matchLabels: Record<string, string>;
  minAvailable?: number | string;
  maxUnavailable?: number | string;
  unhealthyPodEvictionPolicy?: 'IfHealthyBudget' | 'AlwaysAllow';
}

/** The identity the test acts as when seeding: the control plane itself. */
const CONTROL_PLANE: UserInfo = { name: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] };

export class FakeKubeApi extends FakeServer {
  /** PEM of the cluster CA (kubeconfig certificate-authority-data; signs the serving and client certificates). */
  caPem = '';
  /** Path of the CA PEM (for NODE_EXTRA_CA_CERTS or a kubeconfig's certificate-authority). */
  certPath = '';
  readonly cluster: KubeCluster;
  private readonly watches = new Set<ServerResponse>();

  private constructor(
    cluster: KubeCluster,
    private readonly ca: ClusterCa,
  ) {
    super('fake-kube-api');
    this.cluster = cluster;
    this.caPem = ca.certPem;
    this.certPath = ca.certPath;
  }

  static async start(opts: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
    const host = opts.host ?? '127.0.0.1';
    const ca = await ClusterCa.create();
    const serviceIp = '10.0.0.1';
    const serving = await ca.serving(
      [
        '127.0.0.1',
        'localhost',
        host,
        serviceIp,
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
        ...(opts.extraSans ?? []),
      ].filter((h) => h !== '0.0.0.0'),
    );
    const cluster = new KubeCluster({ ...opts, version: normVersion(opts.version ?? 'v1.35.6') }, ca);
    const f = new FakeKubeApi(cluster, ca);
    await f.listen(host, opts.port ?? 0, { key: serving.keyPem, cert: serving.certPem, clientCa: ca.certPem });
    return f;
  }

  override async stop(): Promise<void> {
    for (const w of this.watches) w.destroy();
    this.cluster.controllers.stop();
    await super.stop();
  }

  /**
   * The control plane is upgraded: /version answers `version` from now on (AKS upgrades the control plane before
   * the nodes; the nodes' kubelets stay as they are). Authorization keeps the rules it started with.
   */
  upgradeControlPlane(version: string): void {
    this.cluster.opts.version = normVersion(version);
  }

  /** base64 CA for a kubeconfig's certificate-authority-data. */
  get caData(): string {
    return Buffer.from(this.caPem).toString('base64');
  }

  /** Guard reads role assignments and definitions of this AKS cluster from the fake ARM (FakeArm.addCluster({kube}) calls it). */
  attachAzure(link: { source: AzureRbacSource; clusterId: string }): void {
    this.cluster.attachAzure(link);
  }

  // ---- inspection ----

  /** Every request: who, what, the authorization decision and reason, the answer's code and message. */
  get audit(): AuditEvent[] {
    return this.cluster.audit;
  }

  /** Requests answered 401 or 403. */
  denials(): AuditEvent[] {
    return this.audit.filter((e) => e.code === 401 || e.code === 403);
  }

  object(resource: string, namespace: string, name: string): KubeObject | undefined {
    const res = this.cluster.res(resource);
    return this.cluster.store.get(res, res.namespaced ? namespace : '', name);
  }

  objects(resource: string, namespace?: string): KubeObject[] {
    return this.cluster.store.list(this.cluster.res(resource), namespace);
  }

  nodes(): KubeObject[] {
    return this.objects('nodes');
  }

  node(name: string): KubeObject | undefined {
    return this.object('nodes', '', name);
  }

  leases(namespace?: string): KubeObject[] {
    return this.objects('leases', namespace);
  }

  lease(name: string, namespace = 'kube-node-lease'): KubeObject | undefined {
    return this.object('leases', namespace, name);
  }

  pods(namespace?: string): KubeObject[] {
    return this.objects('pods', namespace);
  }

  pod(namespace: string, name: string): KubeObject | undefined {
    return this.object('pods', namespace, name);
  }

  /** The Ready condition of a node, if reported. */
  readyCondition(name: string): Record<string, string> | undefined {
    const conds = (this.node(name)?.status?.conditions ?? []) as Record<string, string>[];
    return conds.find((c) => c.type === 'Ready');
  }

  // ---- credentials for tests ----

  /** A client certificate of the cluster CA: user `cn`, groups `groups` (e.g. system:masters for an admin). */
  issueClientCert(cn: string, groups: string[] = [], days = 2): Promise<IssuedCert> {
    return this.ca.client(cn, groups, days);
  }

  /** A bootstrap token (its Secret stored in kube-system), as `kubeadm token create` makes one. */
  createBootstrapToken(spec: BootstrapTokenSpec = {}): { token: string; secretName: string } {
    const { token, secret } = bootstrapTokenSecret(spec);
    this.apply(secret);
    return { token, secretName: secret.metadata.name };
  }

  /** A service-account token (TokenRequest as the control plane), optionally bound to a pod. */
  serviceAccountToken(namespace: string, name: string, opts: { audiences?: string[]; pod?: string; expirationSeconds?: number } = {}): string {
    const pod = opts.pod ? this.pod(namespace, opts.pod) : undefined;
    if (opts.pod && !pod) throw new Error(`fake kube: no pod ${namespace}/${opts.pod}`);
    const reply = tokenRequest(this.ctx(), this.cluster.authn, (r) => this.cluster.res(r), namespace, name, {
      spec: {
        audiences: opts.audiences,
        expirationSeconds: opts.expirationSeconds ?? 3600,
        ...(pod ? { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata.name, uid: pod.metadata.uid } } : {}),
      },
    });
    return (reply.body as { status: { token: string } }).status.token;
  }

  /** A kubeconfig (JSON, which is YAML) for this server and the given credential. */
  kubeconfig(user: { token: string } | IssuedCert | { exec: Record<string, unknown> }, server = this.url): string {
    const u =
      'token' in user
        ? { token: user.token }
        : 'certPem' in user
          ? { 'client-certificate-data': Buffer.from(user.certPem).toString('base64'), 'client-key-data': Buffer.from(user.keyPem).toString('base64') }
          : { exec: user.exec };
    return JSON.stringify(
      {
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'fake',
        clusters: [{ name: 'fake', cluster: { server, 'certificate-authority-data': this.caData } }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake' } }],
        users: [{ name: 'fake', user: u }],
      },
      null,
      2,
    );
  }

  // ---- seeding, as the control plane ----

  /** Create (or replace) an object as the control plane: defaults and admission apply, authorization does not. */
  apply(obj: KubeObject): KubeObject {
    const resource = resourceOf(obj);
    const res = this.cluster.res(resource);
    const ns = res.namespaced ? (obj.metadata.namespace ?? 'default') : '';
    const cur = this.cluster.store.get(res, ns, obj.metadata.name);
    const out = cur
      ? this.cluster.store.replace(res, {
          ...obj,
          metadata: { ...obj.metadata, namespace: res.namespaced ? ns : undefined, resourceVersion: cur.metadata.resourceVersion },
        })
      : (create(this.ctx(), res, ns, obj).body as KubeObject);
    this.cluster.controllers.sync();
    return out;
  }

  /** A pod as the scheduler (nodeName) and a kubelet (status) would leave it; see SeedPod. */
  seedPod(p: SeedPod): KubeObject {
    const namespace = p.namespace ?? 'default';
    const labels = { ...(p.labels ?? {}) };
    const owners: OwnerReference[] = [];
    if (p.mirror) {
      const node = p.nodeName && this.node(p.nodeName);
      if (!node) throw new Error('fake kube: a mirror pod needs an existing nodeName');
      owners.push({ apiVersion: 'v1', kind: 'Node', name: node.metadata.name, uid: node.metadata.uid!, controller: true });
    } else if (p.owner) owners.push(this.ownerFor(p.owner, namespace, labels));
    const pod = this.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: p.name,
        namespace,
        labels,
        ...(owners.length ? { ownerReferences: owners } : {}),
        annotations: {
          ...(p.annotations ?? {}),
          ...(p.mirror ? { 'kubernetes.io/config.mirror': 'fakehash', 'kubernetes.io/config.source': 'file', 'kubernetes.io/config.hash': 'fakehash' } : {}),
        },
      },
      spec: {
        ...(p.nodeName ? { nodeName: p.nodeName } : {}),
        containers: [{ name: 'main', image: p.image ?? 'docker.io/flexnode-test/pod:1', ...(p.command ? { command: p.command } : {}) }],
        ...(p.mirror ? { automountServiceAccountToken: false } : {}),
        ...(p.spec ?? {}),
      },
    });
    const phase = p.phase ?? (p.nodeName ? 'Running' : 'Pending');
    const ready = p.ready ?? phase === 'Running';
    return this.setPodStatus(namespace, p.name, phase, ready) ?? pod;
  }

  /** Set a pod's phase and Ready condition as its kubelet would report them. */
  setPodStatus(namespace: string, name: string, phase: string, ready: boolean): KubeObject | undefined {
    const res = this.cluster.res('pods');
    const cur = this.cluster.store.get(res, namespace, name);
    if (!cur) return undefined;
    const t = now();
    const cond = (type: string, ok: boolean) => ({ type, status: ok ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: t });
    const status = {
      ...(cur.status ?? {}),
      phase,
      startTime: t,
      conditions: [
        cond('PodScheduled', !!(cur.spec as { nodeName?: string })?.nodeName),
        cond('Initialized', phase !== 'Pending'),
        cond('ContainersReady', ready),
        cond('Ready', ready),
      ],
    };
    const out = this.cluster.store.replace(res, { ...cur, status });
    this.cluster.controllers.sync();
    return out;
  }

  seedPdb(p: SeedPdb): KubeObject {
    return this.apply({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: p.name, namespace: p.namespace ?? 'default' },
      spec: {
        selector: { matchLabels: p.matchLabels },
        ...(p.minAvailable !== undefined ? { minAvailable: p.minAvailable } : {}),
        ...(p.maxUnavailable !== undefined ? { maxUnavailable: p.maxUnavailable } : {}),
        ...(p.unhealthyPodEvictionPolicy ? { unhealthyPodEvictionPolicy: p.unhealthyPodEvictionPolicy } : {}),
      },
    });
  }

  /** Delete as the control plane; `force` is --grace-period=0 --force. */
  deleteObject(resource: string, namespace: string, name: string, opts: { force?: boolean } = {}): void {
    const res = this.cluster.res(resource);
    remove(this.ctx(), res, res.namespaced ? namespace : '', name, opts.force ? { gracePeriodSeconds: 0 } : {});
    this.cluster.controllers.sync();
  }

  private ownerFor(owner: NonNullable<SeedPod['owner']>, namespace: string, podLabels: Record<string, string>): OwnerReference {
    const known: Record<string, string> = { DaemonSet: 'daemonsets', ReplicaSet: 'replicasets', StatefulSet: 'statefulsets' };
    const resource = known[owner.kind];
    if (!resource)
      return {
        apiVersion: owner.apiVersion ?? 'v1',
        kind: owner.kind,
        name: owner.name,
        uid: owner.uid ?? '00000000-0000-0000-0000-000000000000',
        controller: true,
        blockOwnerDeletion: true,
      };
    const sel = { [`${owner.kind.toLowerCase()}`]: owner.name };
    Object.assign(podLabels, sel);
    const existing = this.object(resource, namespace, owner.name);
    const spec: Record<string, unknown> = {
      selector: { matchLabels: sel },
      template: { metadata: { labels: sel }, spec: { containers: [{ name: 'main', image: 'docker.io/flexnode-test/pod:1' }] } },
    };
    if (owner.kind !== 'DaemonSet') spec.replicas = Number((existing?.spec as { replicas?: number } | undefined)?.replicas ?? 0) + 1;
    const o = this.apply({ apiVersion: 'apps/v1', kind: owner.kind, metadata: { name: owner.name, namespace }, spec });
    return { apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: o.metadata.uid!, controller: true, blockOwnerDeletion: true };
  }

  private ctx(): RestContext {
    return {
      store: this.cluster.store,
      user: CONTROL_PLANE,
      admit: (r) =>
        admit(r, {
          store: this.cluster.store,
          res: (x) => this.cluster.res(x),
          authorize: (x) => this.cluster.authz.authorize(x),
          rbac: this.cluster.authz.rbac,
        }),
    };
  }

  /**
   * Call a node's kubelet as a client of its :10250 API would (metrics-server with its service-account token, the
   * API server with its client certificate): at the node's InternalIP (or `address`) and its kubeletEndpoint port.
   * The kubelet then makes its TokenReview and SubjectAccessReview calls to this server.
   */
  scrapeNode(nodeName: string, path: string, as: { token: string } | IssuedCert, address?: string): Promise<{ status: number; body: string }> {
    const node = this.node(nodeName);
    if (!node) return Promise.reject(new Error(`fake kube: no node ${nodeName}`));
    const st = (node.status ?? {}) as { addresses?: { type: string; address: string }[]; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
    const host = address ?? st.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '127.0.0.1';
    const port = st.daemonEndpoints?.kubeletEndpoint?.Port ?? 10250;
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host,
          port,
          path,
          method: 'GET',
          rejectUnauthorized: false,
          ...('token' in as ? { headers: { authorization: `Bearer ${as.token}` } } : { cert: as.certPem, key: as.keyPem }),
        },
        (res) => {
          let body = '';
          res.on('data', (d) => {
            body += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  /** Whether a pod is Ready (helper for tests). */
  static ready(pod: KubeObject | undefined): boolean {
    return !!pod && podReady(pod);
  }

  // ---- HTTP ----

  protected async handle(rec: RecordedRequest, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply: KubeReply = await this.cluster.handle({
      method: rec.method,
      path: rec.path,
      query: rec.query,
      rawQuery: rec.rawUrl.includes('?') ? rec.rawUrl.slice(rec.rawUrl.indexOf('?') + 1) : '',
      contentType: String(rec.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim(),
      json: rec.json,
      bearer: rec.bearer,
      socket: req.socket as TLSSocket,
      userAgent: String(rec.headers['user-agent'] ?? ''),
    });
    if ('watch' in reply) return this.stream(reply, res);
    if (reply.text !== undefined) {
      res.writeHead(reply.status, { 'content-type': 'text/plain; charset=utf-8', ...(reply.headers ?? {}) });
      return void res.end(reply.text);
    }
    this.sendJson(res, reply.status, reply.body, reply.headers ?? {});
  }

  private stream(reply: Extract<KubeReply, { watch: unknown }>, res: ServerResponse): void {
    let cancel: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const end = () => {
      cancel?.();
      if (timer) clearTimeout(timer);
      this.watches.delete(res);
      if (!res.writableEnded) res.end();
    };
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache, private' });
    this.watches.add(res);
    res.on('close', end);
    try {
      cancel = reply.watch((e) => {
        if (!res.writableEnded) res.write(`${JSON.stringify(e)}\n`);
      });
    } catch (e) {
      if (e instanceof KubeError) res.write(`${JSON.stringify({ type: 'ERROR', object: e.status })}\n`);
      return end();
    }
    // the API server ends a watch after timeoutSeconds (default: a random 30-60 min; here 30 min)
    timer = setTimeout(end, (reply.timeoutSec ?? 1800) * 1000);
  }

  protected errorBody(code: number, _rec: RecordedRequest, reason?: string, message?: string): unknown {
    const reasons: Record<number, string> = {
      401: 'Unauthorized',
      403: 'Forbidden',
      404: 'NotFound',
      409: 'Conflict',
      429: 'TooManyRequests',
      500: 'InternalError',
      503: 'ServiceUnavailable',
    };
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: message ?? `${reason ?? reasons[code] ?? 'error'} (fake Kubernetes API)`,
      reason: reason ?? reasons[code] ?? 'Unknown',
      code,
    };
  }
}

function normVersion(v: string): string {
  return v.startsWith('v') ? v : `v${v}`;
}

function resourceOf(obj: KubeObject): string {
  const group = obj.apiVersion?.includes('/') ? obj.apiVersion.split('/')[0]! : '';
  const r = resourceOfKind(obj.kind ?? '', group);
  if (!r) throw new Error(`fake kube: unknown kind ${obj.apiVersion}/${obj.kind}`);
  return group ? `${r.resource}.${group}` : r.resource;
}
