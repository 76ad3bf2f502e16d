// The FAKE Kubernetes control plane without its HTTP server: authentication, the authorizer chain, admission, the
// registry, the review APIs, the subresources and the controllers, wired as kube-apiserver and
// kube-controller-manager wire them. fake-kube-api.ts serves it over HTTPS.
import type { TLSSocket } from 'node:tls';
import { admit } from './admission.js';
import { API_RESOURCES, discovery, findResource, type ApiResource } from './api-resources.js';
import { Authenticator, type StaticToken } from './authn.js';
import { AuthorizerChain, forbidden } from './authz.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap-policy.js';
import { cidrString, ipString, parseCidr } from './cidr.js';
import type { ClusterCa } from './cluster-ca.js';
import { Controllers } from './controllers.js';
import { GuardAuthorizer, type GuardLink } from './guard.js';
import { NodeAuthorizer } from './node-authorizer.js';
import { RbacAuthorizer } from './rbac.js';
import { parseRequest } from './request-info.js';
import { create, get, list, patch, remove, update, watch, type DeleteOptions, type Reply, type RestContext, type WatchEvent } from './rest.js';
import { localSubjectAccessReview, selfSubjectAccessReview, selfSubjectReview, subjectAccessReview, tokenReview } from './reviews.js';
import { errors, KubeError } from './status.js';
import { now, ObjectStore } from './store.js';
import { prepareForCreate } from './strategies.js';
import { evict, tokenRequest } from './subresources.js';
import type { AuditEvent, AuthzResult, KubeObject, RequestAttributes, UserInfo } from './types.js';

export interface KubeClusterOptions {
  /** gitVersion of the API server, e.g. v1.35.6. */
  version: string;
  staticTokens?: StaticToken[];
  /** --service-account-issuer (default https://kubernetes.default.svc.cluster.local). */
  serviceAccountIssuer?: string;
  /** --api-audiences (default the issuer). */
  apiAudiences?: string[];
  /** kube-controller-manager --allocate-node-cidrs with --cluster-cidr and --node-cidr-mask-size (default 24). */
  podCidr?: { clusterCidr: string; nodeMaskSize?: number };
  /** --service-cluster-ip-range (default 10.0.0.0/16, AKS's). */
  serviceCidr?: string;
  /** --cluster-signing-duration in seconds (default 8760 h). */
  signingSeconds?: number;
  /** kube-controller-manager --node-monitor-grace-period in seconds (default 40; --node-startup-grace-period is 1.5x). */
  nodeMonitorGraceSeconds?: number;
  /** guard for users without an Entra oid: 'no-opinion' (default) or 'deny' (--azure.skip-authz-for-non-aad-users=false). */
  nonAadUsers?: 'no-opinion' | 'deny';
  /**
   * guard's decision cache in ms: an allow or a deny is given again for this long without asking Azure
   * (--azure.cache-ttl-minutes, 3 min by default; kubeguard/guard authz/providers/azure/CACHING.md: denials are
   * cached too). Default 0 here (every request asks), so a test that grants a role after a denial sees it at once;
   * tests of propagation set it.
   */
  guardCacheMs?: number;
  /** The Node authorizer's AuthorizeNodeWithSelectors gate (default: on from 1.32, as upstream). */
  authorizeNodeWithSelectors?: boolean;
  /** Accept Entra tokens of this tenant when no fake ARM cluster is attached. */
  entraTenantId?: string;
  /** Where the `kubernetes` Service's Endpoints point (the API server's address). */
  endpoint?: { ip: string; port: number };
}

export interface KubeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  rawQuery: string;
  contentType: string;
  json?: unknown;
  bearer?: string;
  socket?: TLSSocket;
  userAgent?: string;
}

export type KubeReply = (Reply & { text?: string }) | { status: 200; watch: (send: (e: WatchEvent) => void) => () => void; timeoutSec?: number };

export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'], via: 'anonymous' };
const PUBLIC = new Set(['/healthz', '/livez', '/readyz', '/version', '/version/']);

export class KubeCluster {
  readonly store = new ObjectStore();
  readonly audit: AuditEvent[] = [];
  readonly authn: Authenticator;
  readonly authz: AuthorizerChain;
  readonly controllers: Controllers;
  /** Errors of controllers (a test may assert none happened). */
  readonly controllerErrors: string[] = [];
  private guardLink?: GuardLink;
  private readonly resources = new Map(API_RESOURCES.map((r) => [r.group ? `${r.resource}.${r.group}` : r.resource, r]));

  constructor(
    readonly opts: KubeClusterOptions,
    readonly ca: ClusterCa,
  ) {
    const issuer = opts.serviceAccountIssuer ?? 'https://kubernetes.default.svc.cluster.local';
    this.authn = new Authenticator(
      {
        secret: (ns, n) => this.store.get(this.res('secrets'), ns, n),
        serviceAccount: (ns, n) => this.store.get(this.res('serviceaccounts'), ns, n),
        pod: (ns, n) => this.store.get(this.res('pods'), ns, n),
        entraTenant: () => this.entraTenant(),
      },
      opts.staticTokens ?? [],
      issuer,
      opts.apiAudiences ?? [issuer],
    );
    const minor = Number(/^v?\d+\.(\d+)/.exec(opts.version)?.[1] ?? 99);
    const selectors = opts.authorizeNodeWithSelectors ?? minor >= 32;
    const node = new NodeAuthorizer(
      {
        pods: () => this.store.list(this.res('pods')),
        pvc: (ns, n) => this.store.get(this.res('persistentvolumeclaims'), ns, n),
        volumeAttachments: () => this.store.list(this.res('volumeattachments.storage.k8s.io')),
        nodeExists: (n) => !!this.store.get(this.res('nodes'), '', n),
      },
      () => selectors,
    );
    const rbac = new RbacAuthorizer({
      clusterRoles: () => this.store.list(this.res('clusterroles.rbac.authorization.k8s.io')),
      clusterRoleBindings: () => this.store.list(this.res('clusterrolebindings.rbac.authorization.k8s.io')),
      roles: (ns) => this.store.list(this.res('roles.rbac.authorization.k8s.io'), ns),
      roleBindings: (ns) => this.store.list(this.res('rolebindings.rbac.authorization.k8s.io'), ns),
    });
    this.authz = new AuthorizerChain(
      node,
      rbac,
      new GuardAuthorizer(
        () => this.guardLink,
        () => opts.nonAadUsers ?? 'no-opinion',
        opts.guardCacheMs ?? 0,
      ),
    );
    this.controllers = new Controllers({
      store: this.store,
      res: (r) => this.res(r),
      authorize: (a) => this.authz.authorize(a),
      ca,
      removeNow: (res, ns, n) => void this.store.remove(res, ns, n),
      podCidr: opts.podCidr ? { clusterCidr: opts.podCidr.clusterCidr, nodeMaskSize: opts.podCidr.nodeMaskSize ?? 24 } : undefined,
      signingSeconds: opts.signingSeconds ?? 365 * 24 * 3600,
      nodeGraceMs: { monitor: (opts.nodeMonitorGraceSeconds ?? 40) * 1000, startup: (opts.nodeMonitorGraceSeconds ?? 40) * 1500 },
      onError: (what, e) => void this.controllerErrors.push(`${what}: ${(e as Error).message}`),
    });
    this.seed();
  }

  /** The resource by `name` or `name.group` (e.g. leases.coordination.k8s.io). */
  res(name: string): ApiResource {
    const r = this.resources.get(name) ?? API_RESOURCES.find((x) => x.resource === name);
    if (!r) throw new Error(`fake kube: no resource ${name}`);
    return r;
  }

  attachAzure(link: GuardLink): void {
    this.guardLink = link;
  }

  get azure(): GuardLink | undefined {
    return this.guardLink;
  }

  /** The tenant whose Entra tokens authenticate: the attached AKS cluster's (if Entra ID is on), else the option. */
  entraTenant(): string | undefined {
    if (this.guardLink) {
      const c = this.guardLink.source.cluster(this.guardLink.clusterId);
      return c?.aadProfile ? (c.aadProfile.tenantID ?? c.tenantId) : undefined;
    }
    return this.opts.entraTenantId;
  }

  /** Create as the control plane does (defaults applied, no admission): seeding and test control. */
  systemCreate(resource: string, obj: KubeObject): KubeObject {
    const res = this.res(resource);
    const o = structuredClone(obj);
    prepareForCreate(res, o, { user: { name: 'system:apiserver', groups: ['system:masters'] } });
    return this.store.create(res, o);
  }

  private seed(): void {
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) this.systemCreate('namespaces', { metadata: { name: ns } });
    for (const r of bootstrapClusterRoles()) this.systemCreate('clusterroles.rbac.authorization.k8s.io', r);
    for (const b of bootstrapClusterRoleBindings()) this.systemCreate('clusterrolebindings.rbac.authorization.k8s.io', b);
    const svc = parseCidr(this.opts.serviceCidr ?? '10.0.0.0/16');
    const clusterIP = ipString(svc.base + 1);
    this.systemCreate('services', {
      metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: {
        clusterIP,
        clusterIPs: [clusterIP],
        ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: this.opts.endpoint?.port ?? 443 }],
        type: 'ClusterIP',
        sessionAffinity: 'None',
      },
    });
    // The default ServiceCIDR the API server keeps for --service-cluster-ip-range (pkg/controlplane/controller/defaultservicecidr).
    this.systemCreate('servicecidrs.networking.k8s.io', {
      metadata: { name: 'kubernetes' },
      spec: { cidrs: [cidrString(svc)] },
      status: { conditions: [{ type: 'Ready', status: 'True', reason: '', message: 'Kubernetes Service CIDR is ready', lastTransitionTime: now() }] },
    } as KubeObject);
    if (this.opts.endpoint) {
      this.systemCreate('endpoints', {
        metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
        subsets: [{ addresses: [{ ip: this.opts.endpoint.ip }], ports: [{ name: 'https', port: this.opts.endpoint.port, protocol: 'TCP' }] }],
      } as KubeObject);
    }
    this.controllers.sync();
  }

  /** One API request, start to end; the audit records it. */
  async handle(req: KubeRequest): Promise<KubeReply> {
    let user: UserInfo | undefined;
    let attrs: RequestAttributes | undefined;
    let authorization: AuthzResult | undefined;
    let reply: KubeReply;
    try {
      const out = this.authn.authenticate(req.socket, req.bearer);
      if (req.bearer !== undefined && !out.user) throw errors.unauthorized();
      user = out.user ?? ANONYMOUS;
      const parsed = parseRequest(req.method, req.path, req.query);
      attrs = { ...parsed, user };
      const isPublic = !attrs.isResourceRequest && PUBLIC.has(req.path) && req.method === 'GET';
      if (!isPublic) {
        if (user === ANONYMOUS) throw errors.unauthorized();
        authorization = this.authz.authorize(attrs);
        if (authorization.decision !== 'allow') throw forbidden(attrs, authorization.reason);
      }
      reply = this.route(req, attrs);
    } catch (e) {
      if (!(e instanceof KubeError)) throw e;
      reply = { status: e.code, body: e.status, headers: e.headers };
    }
    this.record(req, user, attrs, authorization, reply);
    return reply;
  }

  private record(
    req: KubeRequest,
    user: UserInfo | undefined,
    a: RequestAttributes | undefined,
    authorization: AuthzResult | undefined,
    reply: KubeReply,
  ): void {
    const body = 'body' in reply ? (reply.body as { kind?: string; status?: string; message?: string } | undefined) : undefined;
    this.audit.push({
      at: new Date().toISOString(),
      user: user?.name ?? '',
      groups: user?.groups ?? [],
      via: user?.via,
      verb: a?.verb ?? req.method.toLowerCase(),
      method: req.method,
      path: req.path,
      query: req.rawQuery,
      userAgent: req.userAgent ?? '',
      apiGroup: a?.apiGroup ?? '',
      resource: a?.resource ?? '',
      subresource: a?.subresource ?? '',
      namespace: a?.namespace ?? '',
      name: a?.name ?? '',
      code: reply.status,
      ...(authorization ? { authorization } : {}),
      ...(body?.kind === 'Status' && body.status === 'Failure' ? { message: body.message } : {}),
    });
  }

  private route(req: KubeRequest, a: RequestAttributes): KubeReply {
    if (!a.isResourceRequest) {
      if (req.path === '/version' || req.path === '/version/') return { status: 200, body: this.versionInfo() };
      if (['/healthz', '/livez', '/readyz'].includes(req.path)) return { status: 200, body: undefined, text: 'ok' };
      const doc = req.method === 'GET' ? discovery(req.path) : undefined;
      if (doc) return { status: 200, body: doc };
      throw errors.pathNotFound();
    }
    const res = findResource(a.apiGroup, a.apiVersion, a.resource);
    if (!res || (a.namespace && !res.namespaced && a.resource !== 'namespaces')) throw errors.pathNotFound();
    const ctx: RestContext = {
      store: this.store,
      user: a.user,
      admit: (r) =>
        admit(r, {
          store: this.store,
          res: (x) => this.res(x),
          authorize: (x) => this.authz.authorize(x),
          rbac: this.authz.rbac,
        }),
    };
    const ns = res.namespaced ? a.namespace : '';
    const body = (req.json ?? {}) as Record<string, any>;
    if (res.createOnly) {
      if (req.method !== 'POST' || a.name) throw errors.methodNotSupported(res.resource, res.group, a.verb);
      const out =
        res.resource === 'tokenreviews'
          ? tokenReview(this.authn, body)
          : res.resource === 'subjectaccessreviews'
            ? subjectAccessReview(body, this.authz)
            : res.resource === 'selfsubjectaccessreviews'
              ? selfSubjectAccessReview(body, a.user, this.authz)
              : res.resource === 'localsubjectaccessreviews'
                ? localSubjectAccessReview(body, a.namespace, this.authz)
                : selfSubjectReview(a.user);
      return { status: 201, body: out };
    }
    if (a.subresource) return this.subresource(ctx, res, ns, a, req);
    switch (a.verb) {
      case 'list':
        return list(ctx, res, ns, req.query);
      case 'watch':
        return {
          status: 200,
          watch: (send) => watch(ctx, res, ns, req.query, send),
          timeoutSec: req.query.timeoutSeconds ? Number(req.query.timeoutSeconds) : undefined,
        };
      case 'get':
        return get(ctx, res, ns, a.name);
      case 'create':
        return create(ctx, res, ns, req.json);
      case 'update':
        return update(ctx, res, ns, a.name, '', req.json);
      case 'patch':
        return patch(ctx, res, ns, a.name, '', req.contentType, req.json);
      case 'delete':
        return this.delete(ctx, res, ns, a.name, req);
      case 'deletecollection': {
        const items = (list(ctx, res, ns, req.query).body as { items: KubeObject[] }).items;
        for (const o of items) this.delete(ctx, res, o.metadata.namespace ?? '', o.metadata.name, req);
        return { status: 200, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' } };
      }
      default:
        throw errors.methodNotSupported(res.resource, res.group, a.verb);
    }
  }

  private delete(ctx: RestContext, res: ApiResource, ns: string, name: string, req: KubeRequest): Reply {
    const body = (req.json ?? {}) as DeleteOptions;
    const grace = req.query.gracePeriodSeconds !== undefined ? Number(req.query.gracePeriodSeconds) : body.gracePeriodSeconds;
    if (res.resource === 'namespaces') return this.deleteNamespace(ctx, name);
    return remove(ctx, res, ns, name, { gracePeriodSeconds: grace, preconditions: body.preconditions });
  }

  /** The namespace goes Terminating, its content is deleted, then it goes (the namespace controller, at once). */
  private deleteNamespace(ctx: RestContext, name: string): Reply {
    const nsRes = this.res('namespaces');
    const cur = this.store.get(nsRes, '', name);
    if (!cur) throw errors.notFound('namespaces', '', name);
    ctx.admit({ user: ctx.user, operation: 'delete', res: nsRes, subresource: '', namespace: name, name, old: cur });
    const terminating = this.store.replace(nsRes, {
      ...cur,
      metadata: { ...cur.metadata, deletionTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
      status: { phase: 'Terminating' },
    });
    setImmediate(() => {
      for (const r of API_RESOURCES.filter((x) => x.namespaced && !x.createOnly))
        for (const o of this.store.list(r, name)) this.store.remove(r, name, o.metadata.name);
      this.store.remove(nsRes, '', name);
    });
    return { status: 200, body: terminating };
  }

  private subresource(ctx: RestContext, res: ApiResource, ns: string, a: RequestAttributes, req: KubeRequest): KubeReply {
    const sub = a.subresource;
    if (!res.subresources.includes(sub)) throw errors.pathNotFound();
    const body = (req.json ?? {}) as Record<string, any>;
    if (sub === 'eviction' && req.method === 'POST') return evict(ctx, (r) => this.res(r), ns, a.name, body);
    if (sub === 'token' && req.method === 'POST') return tokenRequest(ctx, this.authn, (r) => this.res(r), ns, a.name, body);
    if (sub === 'status' || sub === 'approval') {
      if (req.method === 'GET') return get(ctx, res, ns, a.name);
      if (req.method === 'PUT') return update(ctx, res, ns, a.name, sub, req.json);
      if (req.method === 'PATCH' && sub === 'status') return patch(ctx, res, ns, a.name, sub, req.contentType, req.json);
    }
    if (['log', 'exec', 'proxy', 'binding', 'scale'].includes(sub)) {
      throw errors.internal(`${res.resource}/${sub} is not implemented by the fake API server (it does not reach kubelets or run controllers' scale)`, 501);
    }
    throw errors.methodNotSupported(res.resource, res.group, a.verb);
  }

  versionInfo(): Record<string, string> {
    const v = this.opts.version;
    const m = /^v(\d+)\.(\d+)/.exec(v);
    return {
      major: m?.[1] ?? '1',
      minor: m?.[2] ?? '0',
      gitVersion: v,
      gitCommit: 'fake',
      gitTreeState: 'clean',
      buildDate: '2026-01-01T00:00:00Z',
      goVersion: 'go1.25 (fake)',
      compiler: 'gc',
      platform: 'linux/amd64',
    };
  }
}
