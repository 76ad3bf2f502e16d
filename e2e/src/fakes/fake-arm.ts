// FAKE Azure Resource Manager (HTTPS on loopback) for the real Azure SDK clients: HybridCompute machines,
// Authorization role assignments and role definitions (built-in and custom), ContainerService managed clusters.
// In-memory state, ARM error bodies, bearer-token checks, fault injection and long-running operations. With
// `enforceRbac` it also authorizes every call against the role assignments it holds (./azure-rbac.ts), so a caller
// without Microsoft.Authorization/roleDefinitions/write gets ARM's AuthorizationFailed. It is the source of the
// role assignments and definitions the fake Kubernetes API's guard checks dataActions against. Not Azure.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AKS_LATEST_PATCH,
  clusterBody,
  clusterId,
  kubeconfigYaml,
  machineBody,
  machineId,
  networkProfileDefaults,
  roleAssignmentBody,
  roleDefinitionBody,
  roleDefinitionFullId,
  type ClusterState,
  type MachineState,
  type NetworkProfile,
  type RoleAssignmentState,
} from './arm-shapes.js';
import { builtinRoleDefinitions } from './arm-roles.js';
import {
  checkAccess,
  normScope,
  roleGuid,
  scopeCovers,
  type AccessDecision,
  type ActionKind,
  type Permission,
  type RoleDefinitionState,
} from './azure-rbac.js';
import { FAKE_TENANT_ID } from './jwt.js';
import { FakeServer, matches, type RecordedRequest } from './server-base.js';
import { fakeTls } from './tls.js';

export type { ClusterState, MachineState, NetworkProfile, RoleAssignmentState } from './arm-shapes.js';
export type { RoleDefinitionState, Permission } from './azure-rbac.js';
export { BUILTIN_ROLES, ROLE_IDS } from './arm-roles.js';

/** What the fake Kubernetes API reads from ARM for guard (implemented by FakeArm). */
export interface AzureRbacSource {
  cluster(id: string): ClusterState | undefined;
  checkAccess(principalIds: string[], scope: string, action: string, kind: ActionKind): AccessDecision;
}

/** The part of the fake Kubernetes API addCluster wires (structural: no import of the kube fake here). */
export interface AttachableKubeApi {
  url: string;
  caData: string;
  attachAzure(link: { source: AzureRbacSource; clusterId: string }): void;
}

/** api-versions the pinned SDKs send (measured: see fake-arm.test.ts). */
export const PINNED_API_VERSIONS = {
  hybridCompute: '2021-05-20', // @azure/arm-hybridcompute 3.0.0
  roleAssignments: '2022-04-01', // @azure/arm-authorization 9.0.0
  roleDefinitions: '2022-04-01', // @azure/arm-authorization 9.0.0
  containerService: '2026-04-01', // @azure/arm-containerservice 25.3.0
} as const;

export interface CallerIdentity {
  /** Application (client) id or UPN shown in AuthorizationFailed messages. */
  appId?: string;
  objectId?: string;
}

export interface FakeArmOptions {
  host?: string;
  port?: number;
  /** Extra certificate SANs (e.g. a veth IP the box reaches the fake on). */
  extraSans?: string[];
  /** Which bearer tokens are valid; return false for 401, or the caller's identity. Default: any token. */
  acceptToken?: (token: string) => boolean | CallerIdentity;
  /** RBAC hook: return false to answer 403 AuthorizationFailed. */
  authorize?: (ctx: { method: string; path: string; action: string; scope: string; caller: CallerIdentity }) => boolean;
  /** Tenant for machine/cluster identities (default a fixed GUID). */
  tenantId?: string;
  /**
   * Authorize every ARM call (control-plane actions) against the role assignments held here, as ARM does: the
   * caller's objectId needs an assignment at the scope or above whose role allows the action (e.g. Owner or User
   * Access Administrator for Microsoft.Authorization/roleDefinitions/write). Off by default: callers act as Owner.
   */
  enforceRbac?: boolean;
  /** Machine DELETE: 'sync' answers 200/204 (api 2021-05-20), 'async' answers 202 + Azure-AsyncOperation. */
  machineDeleteMode?: 'sync' | 'async';
  /** Polls of an operation status before it finishes (default 1). */
  lroPolls?: number;
  /** When set, the /__fake admin endpoint also requires an accepted bearer token. */
  adminRequiresAuth?: boolean;
  /**
   * How long a custom role definition written through ARM takes to replicate (default 0: at once). Until then its
   * GET and the role definition list answer as before the write (404 RoleDefinitionDoesNotExist for a new role, the
   * old version for an update), and a role assignment naming a new role is refused with 400
   * RoleDefinitionDoesNotExist. Real ARM does this for minutes at times: Azure/terraform-azurerm-caf-enterprise-scale
   * wiki, Troubleshooting ("a transient error which may occur when the Resource Provider in ARM is yet to complete
   * replication of the newly created Role Definition ... up to 10 minutes"); Azure/terraform-azure-avm-ptn-alz-sub-vending
   * PR 47 retries the assignment's transient RoleAssignmentScopeNotAssignableToRoleDefinition for the same reason.
   */
  roleReplicationMs?: number;
  /**
   * How long a role assignment takes to reach the clusters' authorizer (guard's CheckAccess) after ARM created it
   * (default 0: at once). ARM lists it at once, but "New role assignments can take up to 5 minutes to propagate and be
   * updated by the authorization server" (aks-docs manage-azure-rbac.md, Before you begin).
   */
  authorizationPropagationMs?: number;
  /**
   * Which dataActions the resource providers publish (default: any). A custom role naming one they do not is refused
   * whole: 400 InvalidDataActionOrNotDataAction "'<action>' does not match any of the actions supported by the
   * providers." (hashicorp/terraform-provider-azurerm#24576); Microsoft.ContainerService publishes the actions of
   * Kubernetes' APIs only as AKS ships them (kubeguard/guard's notes on its DataAction mapping).
   */
  publishedDataAction?: (action: string) => boolean;
}

export interface ClusterSeed {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  /** API server URL for the kubeconfigs (or give `kube`). */
  serverUrl?: string;
  caData?: string;
  /** The fake Kubernetes API behind this cluster: its URL and CA go in the kubeconfigs and its guard reads this ARM. */
  kube?: AttachableKubeApi;
  location?: string;
  /** As the user set it (`1.35` or `1.35.6`; default 1.35.6). */
  kubernetesVersion?: string;
  /** Exact running version (default: kubernetesVersion, or the latest AKS patch of that minor). */
  currentKubernetesVersion?: string;
  fqdn?: string;
  /** A private cluster: privateFQDN set (default the server's host), no public fqdn unless `fqdn` is given. */
  private?: boolean;
  privateFqdn?: string;
  nodeResourceGroup?: string;
  tenantId?: string;
  /** false: a non-AAD cluster. Default: managed AAD with Azure RBAC. */
  aadProfile?: ClusterState['aadProfile'] | false;
  /** What the cluster was created with; AKS's defaults fill the rest (networkProfileDefaults). */
  networkProfile?: Partial<NetworkProfile>;
  disableLocalAccounts?: boolean;
  extraProperties?: Record<string, unknown>;
}

export interface MachineSeed {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location?: string;
  tenantId?: string;
  /** Explicit principal id; `null` for a machine without identity. Default: a fresh GUID. */
  principalId?: string | null;
  tags?: Record<string, string>;
  vmId?: string;
  agentVersion?: string;
  correlationId?: string;
}

export interface LroFault {
  method?: string;
  pathMatch: RegExp | string;
  times?: number;
  /** Status polls answering InProgress before Failed (default options.lroPolls). */
  polls?: number;
  code?: string;
  message?: string;
}

interface AsyncOp {
  id: string;
  pollsLeft: number;
  final: 'Succeeded' | 'Failed';
  error?: { code: string; message: string };
  onSuccess?: () => void;
  startTime: string;
}

const MACHINE = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.hybridcompute\/machines\/([^/]+)$/i;
const MACHINES_RG = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.hybridcompute\/machines$/i;
const MACHINES_SUB = /^\/subscriptions\/([^/]+)\/providers\/microsoft\.hybridcompute\/machines$/i;
const RA = /^(.*)\/providers\/microsoft\.authorization\/roleassignments\/([^/]+)$/i;
const RA_LIST = /^(.*)\/providers\/microsoft\.authorization\/roleassignments$/i;
const RD = /^(.*)\/providers\/microsoft\.authorization\/roledefinitions\/([^/]+)$/i;
const RD_LIST = /^(.*)\/providers\/microsoft\.authorization\/roledefinitions$/i;
const CLUSTER = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.containerservice\/managedclusters\/([^/]+)$/i;
const CLUSTER_CRED =
  /^(\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.containerservice\/managedclusters\/[^/]+)\/listcluster(user|admin)credential$/i;
const OPERATION = /^\/subscriptions\/[^/]+\/providers\/[^/]+\/locations\/[^/]+\/operation(statuses|results)\/([^/]+)$/i;
const ADMIN_MACHINE = /^\/__fake\/machines\/([^/]+)\/([^/]+)\/([^/]+)$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class FakeArm extends FakeServer {
  certPath = '';
  cert = '';
  readonly tenantId: string;
  private readonly machinesMap = new Map<string, MachineState>();
  private readonly assignments = new Map<string, RoleAssignmentState>();
  private readonly clustersMap = new Map<string, ClusterState>();
  private readonly roleDefs = new Map<string, RoleDefinitionState>(builtinRoleDefinitions().map((d) => [d.id, d]));
  /** Custom role writes not replicated yet (roleReplicationMs): what reads still see until `until`. */
  private readonly replicating = new Map<string, { before?: RoleDefinitionState; until: number }>();
  private readonly ops = new Map<string, AsyncOp>();
  private lroFaults: (LroFault & { left: number })[] = [];

  private constructor(private readonly opts: FakeArmOptions) {
    super('fake-arm');
    this.tenantId = opts.tenantId ?? FAKE_TENANT_ID;
  }

  static async start(opts: FakeArmOptions = {}): Promise<FakeArm> {
    const f = new FakeArm(opts);
    const host = opts.host ?? '127.0.0.1';
    const tls = await fakeTls([...(opts.extraSans ?? []), ...(host !== '127.0.0.1' && host !== '0.0.0.0' ? [host] : [])]);
    f.certPath = tls.certPath;
    f.cert = tls.cert;
    await f.listen(host, opts.port ?? 0, tls);
    return f;
  }

  /** The `endpoint` for SDK clients. */
  get endpoint(): string {
    return this.url;
  }

  get machineDeleteMode(): 'sync' | 'async' {
    return this.opts.machineDeleteMode ?? 'sync';
  }

  set machineDeleteMode(mode: 'sync' | 'async') {
    this.opts.machineDeleteMode = mode;
  }

  // ---- seeding and inspection ----

  addCluster(seed: ClusterSeed): ClusterState {
    const serverUrl = seed.serverUrl ?? seed.kube?.url;
    const caData = seed.caData ?? seed.kube?.caData;
    if (serverUrl === undefined || caData === undefined) throw new Error('fake ARM addCluster: give serverUrl and caData, or kube');
    const host = new URL(serverUrl).hostname.replace(/^\[|\]$/g, '');
    const version = seed.kubernetesVersion ?? '1.35.6';
    const location = seed.location ?? 'eastus';
    const c: ClusterState = {
      subscriptionId: seed.subscriptionId,
      resourceGroup: seed.resourceGroup,
      name: seed.name,
      location,
      kubernetesVersion: version,
      currentKubernetesVersion: seed.currentKubernetesVersion ?? (/^\d+\.\d+$/.test(version) ? (AKS_LATEST_PATCH[version] ?? `${version}.0`) : version),
      serverUrl,
      caData,
      fqdn: seed.fqdn ?? (seed.private ? undefined : host),
      privateFqdn: seed.privateFqdn ?? (seed.private ? host : undefined),
      nodeResourceGroup: seed.nodeResourceGroup ?? `MC_${seed.resourceGroup}_${seed.name}_${location}`,
      tenantId: seed.tenantId ?? this.tenantId,
      aadProfile: seed.aadProfile === false ? null : (seed.aadProfile ?? { managed: true, enableAzureRBAC: true }),
      networkProfile: networkProfileDefaults(seed.networkProfile),
      disableLocalAccounts: seed.disableLocalAccounts ?? false,
      principalId: randomUUID(),
      extraProperties: seed.extraProperties,
    };
    this.clustersMap.set(clusterId(c).toLowerCase(), c);
    seed.kube?.attachAzure({ source: this, clusterId: clusterId(c) });
    return c;
  }

  /** The cluster with this resource id (case-insensitive). */
  cluster(id: string): ClusterState | undefined {
    return this.clustersMap.get(normScope(id));
  }

  /** Change a cluster's state in place (e.g. its version after an upgrade, or Azure RBAC off). */
  updateCluster(id: string, change: (c: ClusterState) => void): ClusterState {
    const c = this.cluster(id);
    if (!c) throw new Error(`fake ARM: no cluster ${id}`);
    change(c);
    return c;
  }

  // ---- role definitions and access checks ----

  roleDefinitions(): RoleDefinitionState[] {
    return [...this.roleDefs.values()];
  }

  roleDefinition(id: string): RoleDefinitionState | undefined {
    return this.roleDefs.get(roleGuid(id));
  }

  /** A role definition as ARM's reads see it: a write still replicating shows what was there before it. */
  private replicatedRoleDef(guid: string): RoleDefinitionState | undefined {
    const pending = this.replicating.get(guid);
    if (pending && Date.now() < pending.until) return pending.before;
    this.replicating.delete(guid);
    return this.roleDefs.get(guid);
  }

  /** Seed a custom role directly (as if created earlier through ARM). */
  addRoleDefinition(def: {
    id?: string;
    roleName: string;
    description?: string;
    assignableScopes: string[];
    permissions: Partial<Permission>[];
  }): RoleDefinitionState {
    const now = new Date().toISOString();
    const d: RoleDefinitionState = {
      id: (def.id ?? randomUUID()).toLowerCase(),
      roleName: def.roleName,
      description: def.description,
      type: 'CustomRole',
      assignableScopes: def.assignableScopes,
      permissions: def.permissions.map(fullPermission),
      createdOn: now,
      updatedOn: now,
    };
    this.roleDefs.set(d.id, d);
    return d;
  }

  /** Assign a role (id or built-in name) to a principal at a scope: a seeded assignment. */
  grant(principalId: string, role: string, scope: string, principalType = 'ServicePrincipal'): RoleAssignmentState {
    const def = this.roleDefinition(role) ?? this.roleDefinitions().find((d) => d.roleName.toLowerCase() === role.toLowerCase());
    if (!def) throw new Error(`fake ARM: no role definition ${role}`);
    const sub = /^\/subscriptions\/([^/]+)/i.exec(`/${scope.replace(/^\/+/, '')}`)?.[1];
    return this.addRoleAssignment({ scope: `/${scope.replace(/^\/+/, '')}`, roleDefinitionId: roleDefinitionFullId(sub, def.id), principalId, principalType });
  }

  /** Azure's access check for a principal (and its groups) at a scope, over the assignments and roles held here. */
  checkAccess(principalIds: string[], scope: string, action: string, kind: ActionKind): AccessDecision {
    // As the clusters' authorizer sees it: assignments newer than authorizationPropagationMs have not reached it.
    const lag = this.opts.authorizationPropagationMs ?? 0;
    const reached = [...this.assignments.values()].filter((a) => lag === 0 || Date.parse(a.createdOn) <= Date.now() - lag);
    return checkAccess(reached, (g) => this.roleDefs.get(g), principalIds, scope, action, kind);
  }

  /** ARM's own authorization of a request (control plane): every assignment it holds. */
  private armAccess(principalIds: string[], scope: string, action: string): boolean {
    return checkAccess(this.assignments.values(), (g) => this.roleDefs.get(g), principalIds, scope, action, 'action').allowed;
  }

  addMachine(seed: MachineSeed): MachineState {
    const key = machineId(seed).toLowerCase();
    const prev = this.machinesMap.get(key);
    const m: MachineState = {
      subscriptionId: seed.subscriptionId,
      resourceGroup: seed.resourceGroup,
      name: seed.name,
      location: seed.location ?? prev?.location ?? 'eastus',
      tenantId: seed.tenantId ?? prev?.tenantId ?? this.tenantId,
      // Re-onboarding the same resource keeps its identity, like ARM does.
      principalId: seed.principalId === null ? undefined : (seed.principalId ?? prev?.principalId ?? randomUUID()),
      tags: seed.tags ?? prev?.tags,
      vmId: seed.vmId ?? prev?.vmId ?? randomUUID(),
      agentVersion: seed.agentVersion ?? '1.50.02997.1',
      status: 'Connected',
      correlationId: seed.correlationId,
      createdAt: prev?.createdAt ?? new Date().toISOString(),
    };
    this.machinesMap.set(key, m);
    return m;
  }

  removeMachine(subscriptionId: string, resourceGroup: string, name: string): boolean {
    return this.machinesMap.delete(machineId({ subscriptionId, resourceGroup, name }).toLowerCase());
  }

  machines(): MachineState[] {
    return [...this.machinesMap.values()];
  }

  machine(name: string): MachineState | undefined {
    return this.machines().find((m) => m.name.toLowerCase() === name.toLowerCase());
  }

  roleAssignments(): RoleAssignmentState[] {
    return [...this.assignments.values()];
  }

  clusters(): ClusterState[] {
    return [...this.clustersMap.values()];
  }

  /** Seed an assignment directly (e.g. one made by someone else). */
  addRoleAssignment(a: Omit<RoleAssignmentState, 'createdOn' | 'name'> & { name?: string }): RoleAssignmentState {
    const full: RoleAssignmentState = { ...a, name: a.name ?? randomUUID(), createdOn: new Date().toISOString() };
    this.assignments.set(raKey(full.scope, full.name), full);
    return full;
  }

  /** Remove an assignment directly (e.g. someone revoked it). */
  removeRoleAssignment(scope: string, name: string): boolean {
    return this.assignments.delete(raKey(scope, name));
  }

  /** The matching request(s) start a long-running operation that ends Failed. */
  injectLroFailure(f: LroFault): void {
    this.lroFaults.push({ ...f, left: f.times ?? 1 });
  }

  /** Distinct api-versions seen per path pattern, for assertions. */
  apiVersionsSeen(match: RegExp | string): string[] {
    return [...new Set(this.requestsTo(match).map((r) => r.apiVersion ?? ''))];
  }

  // ---- request handling ----

  protected handle(rec: RecordedRequest, _req: IncomingMessage, res: ServerResponse): void {
    if (rec.path.startsWith('/__fake/')) return this.admin(rec, res);
    const caller = this.authenticate(rec, res);
    if (!caller) return;
    if (!rec.apiVersion) {
      return this.sendError(res, rec, 400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
    }
    if (!/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(rec.apiVersion)) {
      return this.sendError(
        res,
        rec,
        400,
        'InvalidApiVersionParameter',
        `The api-version '${rec.apiVersion}' is invalid. The supported versions are '${Object.values(PINNED_API_VERSIONS).join("','")}'.`,
      );
    }
    if (this.opts.authorize) {
      const { action, scope } = armAction(rec.method, rec.path);
      if (!this.opts.authorize({ method: rec.method, path: rec.path, action, scope, caller })) {
        return this.sendError(res, rec, 403, 'AuthorizationFailed', undefined);
      }
    }
    if (this.opts.enforceRbac && !OPERATION.test(rec.path) && !this.callerMay(rec, caller)) {
      return this.sendError(res, rec, 403, 'AuthorizationFailed', undefined);
    }
    const lro = this.takeLroFault(rec);
    if (lro) {
      return this.startLro(res, rec, {
        final: 'Failed',
        polls: lro.polls,
        error: { code: lro.code ?? 'InternalOperationError', message: lro.message ?? 'The operation failed (injected by the fake ARM).' },
      });
    }
    const p = rec.path;
    let m: RegExpExecArray | null;
    if ((m = OPERATION.exec(p))) return this.operation(rec, res, m[1].toLowerCase(), m[2]);
    if ((m = MACHINE.exec(p))) return this.machineRoute(rec, res, m[1], m[2], m[3]);
    if ((m = MACHINES_RG.exec(p)) && rec.method === 'GET') {
      const [, sub, rg] = m;
      return this.sendJson(res, 200, {
        value: this.machines()
          .filter((x) => eq(x.subscriptionId, sub) && eq(x.resourceGroup, rg))
          .map(machineBody),
      });
    }
    if ((m = MACHINES_SUB.exec(p)) && rec.method === 'GET') {
      return this.sendJson(res, 200, {
        value: this.machines()
          .filter((x) => eq(x.subscriptionId, m![1]))
          .map(machineBody),
      });
    }
    if ((m = CLUSTER_CRED.exec(p)) && rec.method === 'POST') return this.credentials(rec, res, m[1], m[2].toLowerCase() as 'user' | 'admin');
    if ((m = CLUSTER.exec(p))) return this.clusterRoute(rec, res, p);
    if ((m = RA.exec(p))) return this.roleAssignmentRoute(rec, res, m[1], m[2], caller);
    if ((m = RA_LIST.exec(p)) && rec.method === 'GET') return this.listAssignments(rec, res, m[1]);
    if ((m = RD.exec(p))) return this.roleDefinitionRoute(rec, res, m[1], m[2], caller);
    if ((m = RD_LIST.exec(p)) && rec.method === 'GET') return this.listRoleDefinitions(rec, res, m[1]);
    this.sendError(res, rec, 404, 'NotFound', `The fake ARM has no route for ${rec.method} ${rec.path}.`);
  }

  /** ARM's authorization of the call at the request's scope (the role definition writes check more, see there). */
  private callerMay(rec: RecordedRequest, caller: CallerIdentity): boolean {
    if (!caller.objectId) return false;
    const { action, scope } = armAction(rec.method, rec.path);
    return this.armAccess([caller.objectId], scope, action);
  }

  /**
   * Custom role writes need roleDefinitions/write on every assignable scope of the role (Azure docs, custom-roles:
   * "Who can create, delete, update, or view a custom role"); the first scope without it, if any.
   */
  private scopeWithoutRoleWrite(caller: CallerIdentity, scopes: string[]): string | undefined {
    if (!this.opts.enforceRbac) return undefined;
    return scopes.find((s) => !caller.objectId || !this.armAccess([caller.objectId], s, 'Microsoft.Authorization/roleDefinitions/write'));
  }

  private authenticate(rec: RecordedRequest, res: ServerResponse): CallerIdentity | undefined {
    if (!rec.bearer) {
      this.sendError(res, rec, 401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.", {
        'www-authenticate':
          'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="The authentication failed because of missing \'Authorization\' header."',
      });
      return undefined;
    }
    const verdict = this.opts.acceptToken ? this.opts.acceptToken(rec.bearer) : true;
    if (!verdict) {
      this.sendError(res, rec, 401, 'InvalidAuthenticationToken', 'The access token is invalid.', {
        'www-authenticate':
          'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="The access token is invalid."',
      });
      return undefined;
    }
    return verdict === true ? {} : verdict;
  }

  private admin(rec: RecordedRequest, res: ServerResponse): void {
    if (this.opts.adminRequiresAuth && !this.authenticate(rec, res)) return;
    if (rec.path === '/__fake/state' && rec.method === 'GET') {
      return this.sendJson(res, 200, {
        machines: this.machines(),
        roleAssignments: this.roleAssignments(),
        clusters: this.clusters(),
        roleDefinitions: this.roleDefinitions().filter((d) => d.type === 'CustomRole'),
      });
    }
    const m = ADMIN_MACHINE.exec(rec.path);
    if (!m) return this.sendError(res, rec, 404, 'NotFound', `fake ARM admin: no route ${rec.method} ${rec.path}`);
    const [sub, rg, name] = m.slice(1).map(decodeURIComponent);
    if (rec.method === 'PUT') {
      const b = (rec.json ?? {}) as Partial<MachineSeed>;
      const existed = this.machinesMap.has(machineId({ subscriptionId: sub, resourceGroup: rg, name }).toLowerCase());
      const machine = this.addMachine({ ...b, subscriptionId: sub, resourceGroup: rg, name });
      return this.sendJson(res, existed ? 200 : 201, machineBody(machine));
    }
    if (rec.method === 'DELETE') {
      const ok = this.removeMachine(sub, rg, name);
      return ok ? this.sendJson(res, 200, undefined) : this.sendError(res, rec, 404, 'ResourceNotFound', undefined);
    }
    if (rec.method === 'GET') {
      const mm = this.machinesMap.get(machineId({ subscriptionId: sub, resourceGroup: rg, name }).toLowerCase());
      return mm ? this.sendJson(res, 200, machineBody(mm)) : this.sendError(res, rec, 404, 'ResourceNotFound', undefined);
    }
    this.sendError(res, rec, 405, 'MethodNotAllowed', 'fake ARM admin: PUT, GET or DELETE');
  }

  private machineRoute(rec: RecordedRequest, res: ServerResponse, sub: string, rg: string, name: string): void {
    const key = machineId({ subscriptionId: sub, resourceGroup: rg, name }).toLowerCase();
    const mm = this.machinesMap.get(key);
    if (rec.method === 'GET') return mm ? this.sendJson(res, 200, machineBody(mm)) : this.notFound(res, rec);
    if (rec.method === 'DELETE') {
      if (!mm) return this.sendJson(res, 204, undefined);
      if (this.opts.machineDeleteMode === 'async') {
        return this.startLro(res, rec, { final: 'Succeeded', onSuccess: () => this.machinesMap.delete(key) });
      }
      this.machinesMap.delete(key);
      return this.sendJson(res, 200, undefined);
    }
    this.sendError(
      res,
      rec,
      405,
      'MethodNotAllowed',
      'The fake ARM serves GET and DELETE on machines; onboarding is `azcmagent connect` (stand-in: PUT /__fake/machines/...).',
    );
  }

  private clusterRoute(rec: RecordedRequest, res: ServerResponse, path: string): void {
    const key = path.toLowerCase();
    const c = this.clustersMap.get(key);
    if (!c) return this.notFound(res, rec);
    if (rec.method === 'GET') return this.sendJson(res, 200, clusterBody(c));
    if (rec.method === 'DELETE') return this.startLro(res, rec, { final: 'Succeeded', onSuccess: () => this.clustersMap.delete(key) });
    this.sendError(res, rec, 405, 'MethodNotAllowed', 'The fake ARM serves GET and DELETE on managedClusters.');
  }

  private credentials(rec: RecordedRequest, res: ServerResponse, cpath: string, kind: 'user' | 'admin'): void {
    const c = this.clustersMap.get(cpath.toLowerCase());
    if (!c) return this.notFound(res, rec);
    if (kind === 'admin' && c.disableLocalAccounts) {
      return this.sendError(res, rec, 400, 'BadRequest', 'Getting static credential is not allowed because this cluster is set to disable local accounts.');
    }
    const format = rec.query.format;
    if (format && !['exec', 'azure'].includes(format)) {
      return this.sendError(res, rec, 400, 'InvalidParameter', `The value '${format}' of parameter 'format' is invalid. Allowed values: azure, exec.`);
    }
    const yaml = kubeconfigYaml(c, kind, format, randomBytes(32).toString('hex'));
    this.sendJson(res, 200, { kubeconfigs: [{ name: kind === 'admin' ? 'clusterAdmin' : 'clusterUser', value: Buffer.from(yaml).toString('base64') }] });
  }

  private roleAssignmentRoute(rec: RecordedRequest, res: ServerResponse, scope: string, name: string, caller: CallerIdentity): void {
    const key = raKey(scope, name);
    const existing = this.assignments.get(key);
    if (rec.method === 'GET') {
      return existing
        ? this.sendJson(res, 200, roleAssignmentBody(existing))
        : this.sendError(res, rec, 404, 'RoleAssignmentNotFound', `The role assignment '${name}' is not found.`);
    }
    if (rec.method === 'DELETE') {
      if (!existing) return this.sendJson(res, 204, undefined);
      this.assignments.delete(key);
      return this.sendJson(res, 200, roleAssignmentBody(existing));
    }
    if (rec.method !== 'PUT') return this.sendError(res, rec, 405, 'MethodNotAllowed', 'GET, PUT or DELETE');
    if (!GUID.test(name)) {
      return this.sendError(res, rec, 400, 'InvalidRoleAssignmentId', `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`);
    }
    const scopeProblem = this.checkScope(scope);
    if (scopeProblem) return this.sendError(res, rec, 404, scopeProblem.code, scopeProblem.message);
    const props = (rec.json as { properties?: Record<string, string> } | undefined)?.properties ?? {};
    const rdId = props.roleDefinitionId ?? '';
    const rdGuid = /\/roleDefinitions\/([^/]+)$/i.exec(rdId)?.[1]?.toLowerCase();
    if (!rdGuid || !this.replicatedRoleDef(rdGuid)) {
      return this.sendError(res, rec, 400, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${rdGuid ?? rdId}' does not exist.`);
    }
    if (!props.principalId || !GUID.test(props.principalId)) {
      return this.sendError(res, rec, 400, 'InvalidPrincipalId', 'A valid principal ID must be provided for role assignment.');
    }
    const dup = this.roleAssignments().find(
      (a) => a.name !== name && eq(a.scope, scope) && eq(a.principalId, props.principalId) && a.roleDefinitionId.toLowerCase().endsWith(rdGuid),
    );
    if (dup) return this.sendError(res, rec, 409, 'RoleAssignmentExists', 'The role assignment already exists.');
    if (existing && (!eq(existing.principalId, props.principalId) || !existing.roleDefinitionId.toLowerCase().endsWith(rdGuid))) {
      return this.sendError(
        res,
        rec,
        400,
        'RoleAssignmentUpdateNotPermitted',
        'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.',
      );
    }
    const a: RoleAssignmentState = existing ?? {
      scope,
      name,
      roleDefinitionId: rdId,
      principalId: props.principalId,
      principalType: props.principalType ?? 'User',
      description: props.description,
      createdOn: new Date().toISOString(),
      createdBy: caller.objectId,
    };
    this.assignments.set(key, a);
    this.sendJson(res, existing ? 200 : 201, roleAssignmentBody(a));
  }

  /** A role assignment on a cluster or machine that does not exist is a 404, as in ARM. */
  private checkScope(scope: string): { code: string; message: string } | undefined {
    const c = CLUSTER.exec(scope);
    if (c && !this.clustersMap.has(scope.toLowerCase())) {
      return { code: 'ResourceNotFound', message: notFoundMessage('Microsoft.ContainerService/managedClusters', c[3], c[2]) };
    }
    const m = MACHINE.exec(scope);
    if (m && !this.machinesMap.has(scope.toLowerCase())) {
      return { code: 'ResourceNotFound', message: notFoundMessage('Microsoft.HybridCompute/machines', m[3], m[2]) };
    }
    return undefined;
  }

  private listAssignments(rec: RecordedRequest, res: ServerResponse, scope: string): void {
    const filter = rec.query.$filter ?? '';
    const principal = /principalId\s+eq\s+'([^']+)'/i.exec(filter)?.[1] ?? /assignedTo\('([^']+)'\)/i.exec(filter)?.[1];
    const atScope = /atScope\(\)/i.test(filter);
    const s = scope.toLowerCase();
    const value = this.roleAssignments()
      .filter((a) => {
        const as = a.scope.toLowerCase();
        const above = s === as || s.startsWith(as + '/') || as === '/';
        const below = as.startsWith(s + '/');
        return (above || (!atScope && below)) && (!principal || eq(a.principalId, principal));
      })
      .map(roleAssignmentBody);
    this.sendJson(res, 200, { value });
  }

  private roleDefinitionRoute(rec: RecordedRequest, res: ServerResponse, scope: string, id: string, caller: CallerIdentity): void {
    const guid = id.toLowerCase();
    const existing = this.roleDefs.get(guid);
    const sub = subscriptionOf(scope);
    if (rec.method === 'GET') {
      const seen = this.replicatedRoleDef(guid);
      return seen
        ? this.sendJson(res, 200, roleDefinitionBody(seen, sub))
        : this.sendError(res, rec, 404, 'RoleDefinitionDoesNotExist', `The role definition '${id}' could not be found.`);
    }
    if (rec.method === 'DELETE') {
      if (!existing) return this.sendJson(res, 204, undefined);
      if (existing.type === 'BuiltInRole') {
        return this.sendError(res, rec, 400, 'BadRequest', `Built-in role '${existing.roleName}' cannot be deleted (fake ARM).`);
      }
      // Azure docs, custom-roles: "There are existing role assignments referencing role (code: RoleDefinitionHasAssignments)".
      const noWrite = this.scopeWithoutRoleWrite(caller, existing.assignableScopes);
      if (noWrite)
        return this.sendError(res, rec, 403, 'AuthorizationFailed', authorizationFailed(caller, 'Microsoft.Authorization/roleDefinitions/delete', noWrite));
      if (this.roleAssignments().some((a) => roleGuid(a.roleDefinitionId) === guid)) {
        return this.sendError(res, rec, 409, 'RoleDefinitionHasAssignments', 'There are existing role assignments referencing role');
      }
      this.roleDefs.delete(guid);
      this.replicating.delete(guid);
      return this.sendJson(res, 200, roleDefinitionBody(existing, sub));
    }
    if (rec.method !== 'PUT') return this.sendError(res, rec, 405, 'MethodNotAllowed', 'GET, PUT or DELETE');
    if (!GUID.test(id)) {
      return this.sendError(res, rec, 400, 'InvalidRoleDefinitionId', `The role definition ID '${id}' is not valid. The role definition ID must be a GUID.`);
    }
    if (existing?.type === 'BuiltInRole') {
      return this.sendError(res, rec, 400, 'BadRequest', `Built-in role '${existing.roleName}' cannot be modified (fake ARM).`);
    }
    const props = ((rec.json as { properties?: Record<string, unknown> } | undefined)?.properties ?? {}) as {
      roleName?: string;
      description?: string;
      assignableScopes?: string[];
      permissions?: Partial<Permission>[];
    };
    const problem = customRoleProblem(props);
    if (problem) return this.sendError(res, rec, 400, problem.code, problem.message);
    const published = this.opts.publishedDataAction;
    const unpublished = published && (props.permissions ?? []).flatMap((x) => x.dataActions ?? []).find((a) => !a.includes('*') && !published(a));
    if (unpublished) {
      return this.sendError(
        res,
        rec,
        400,
        'InvalidDataActionOrNotDataAction',
        `'${unpublished}' does not match any of the actions supported by the providers.`,
      );
    }
    const noWrite = this.scopeWithoutRoleWrite(caller, props.assignableScopes!);
    if (noWrite)
      return this.sendError(res, rec, 403, 'AuthorizationFailed', authorizationFailed(caller, 'Microsoft.Authorization/roleDefinitions/write', noWrite));
    // Role names are unique in the directory (Azure docs, custom-roles).
    const clash = this.roleDefinitions().find((d) => d.id !== guid && d.roleName.toLowerCase() === props.roleName!.toLowerCase());
    if (clash) {
      return this.sendError(
        res,
        rec,
        409,
        'RoleDefinitionWithSameNameExists',
        'A custom role with the same name already exists in this directory. Use a different name.',
      );
    }
    // Shrinking assignableScopes under existing assignments orphans them: ARM refuses.
    const orphaned =
      existing && this.roleAssignments().find((a) => roleGuid(a.roleDefinitionId) === guid && !props.assignableScopes!.some((sc) => scopeCovers(sc, a.scope)));
    if (orphaned) {
      return this.sendError(
        res,
        rec,
        400,
        'RoleScopeBeingRemovedContainsAssignments',
        `Role assignments found under scope '${orphaned.scope}' which is being removed. Removing this scope from the role will orphan these assignments. Delete these assignments before removing the scope.`,
      );
    }
    const now = new Date().toISOString();
    const def: RoleDefinitionState = {
      id: guid,
      roleName: props.roleName!,
      description: props.description,
      type: 'CustomRole',
      assignableScopes: props.assignableScopes!,
      permissions: props.permissions!.map(fullPermission),
      createdOn: existing?.createdOn ?? now,
      updatedOn: now,
      createdBy: existing?.createdBy ?? caller.objectId,
      updatedBy: caller.objectId,
    };
    this.roleDefs.set(guid, def);
    const lag = this.opts.roleReplicationMs ?? 0;
    if (lag > 0) {
      // Reads still see what was there before the first write that has not replicated; once replicated, the last one.
      const pending = this.replicating.get(guid);
      this.replicating.set(guid, { before: pending && Date.now() < pending.until ? pending.before : existing, until: Date.now() + lag });
    }
    // RoleDefinitions_CreateOrUpdate answers 201 for a create and for an update (the SDK accepts only 201).
    this.sendJson(res, 201, roleDefinitionBody(def, sub));
  }

  /** Roles available for assignment at the scope: built-ins everywhere, custom roles where an assignable scope covers it. */
  private listRoleDefinitions(rec: RecordedRequest, res: ServerResponse, scope: string): void {
    const filter = rec.query.$filter ?? '';
    const roleName = /roleName\s+eq\s+'((?:[^']|'')+)'/i.exec(filter)?.[1]?.replace(/''/g, "'");
    const type = /type\s+eq\s+'([^']+)'/i.exec(filter)?.[1];
    const value = this.roleDefinitions()
      .map((d) => this.replicatedRoleDef(d.id))
      .filter((d): d is RoleDefinitionState => d !== undefined)
      .filter((d) => d.type === 'BuiltInRole' || d.assignableScopes.some((a) => scopeCovers(a, scope)))
      .filter((d) => !roleName || d.roleName.toLowerCase() === roleName.toLowerCase())
      .filter((d) => !type || d.type.toLowerCase() === type.toLowerCase())
      .map((d) => roleDefinitionBody(d, subscriptionOf(scope)));
    this.sendJson(res, 200, { value });
  }

  // ---- long-running operations ----

  private startLro(res: ServerResponse, rec: RecordedRequest, o: Omit<AsyncOp, 'id' | 'pollsLeft' | 'startTime'> & { polls?: number }): void {
    const id = randomUUID();
    this.ops.set(id, {
      id,
      pollsLeft: o.polls ?? this.opts.lroPolls ?? 1,
      final: o.final,
      error: o.error,
      onSuccess: o.onSuccess,
      startTime: new Date().toISOString(),
    });
    const sub = /^\/subscriptions\/([^/]+)/i.exec(rec.path)?.[1] ?? '00000000-0000-0000-0000-000000000000';
    const ns = /\/providers\/([^/]+)\/[^/]+/i.exec(rec.path)?.[1] ?? 'Microsoft.Resources';
    const base = `${this.url}/subscriptions/${sub}/providers/${ns}/locations/eastus`;
    const v = `?api-version=${rec.apiVersion}`;
    this.sendJson(res, 202, undefined, {
      'azure-asyncoperation': `${base}/operationStatuses/${id}${v}`,
      location: `${base}/operationResults/${id}${v}`,
      'retry-after': '0',
    });
  }

  private operation(rec: RecordedRequest, res: ServerResponse, kind: string, id: string): void {
    const op = this.ops.get(id);
    if (!op) return this.notFound(res, rec);
    let status: string = 'InProgress';
    if (op.pollsLeft > 0) op.pollsLeft--;
    else {
      status = op.final;
      if (op.final === 'Succeeded' && op.onSuccess) {
        op.onSuccess();
        op.onSuccess = undefined;
      }
    }
    if (kind === 'results') {
      if (status === 'InProgress') return this.sendJson(res, 202, undefined, { location: `${this.url}${rec.rawUrl}`, 'retry-after': '0' });
      if (status === 'Failed') return this.sendJson(res, 500, { error: op.error });
      return this.sendJson(res, 204, undefined);
    }
    this.sendJson(
      res,
      200,
      {
        id: rec.path,
        name: id,
        status,
        startTime: op.startTime,
        ...(status !== 'InProgress' ? { endTime: new Date().toISOString() } : {}),
        ...(status === 'Failed' ? { error: op.error } : {}),
      },
      status === 'InProgress' ? { 'retry-after': '0' } : {},
    );
  }

  private takeLroFault(rec: RecordedRequest): LroFault | undefined {
    const f = this.lroFaults.find((x) => x.left > 0 && (!x.method || x.method.toUpperCase() === rec.method) && matches(x.pathMatch, rec.path));
    if (f) {
      f.left--;
      rec.faulted = true;
    }
    return f;
  }

  private notFound(res: ServerResponse, rec: RecordedRequest): void {
    this.sendError(res, rec, 404, 'ResourceNotFound', undefined);
  }

  protected errorBody(status: number, rec: RecordedRequest, code?: string, message?: string): unknown {
    const { action, scope } = armAction(rec.method, rec.path);
    const caller = rec.bearer && this.opts.acceptToken ? this.opts.acceptToken(rec.bearer) : true;
    const who = typeof caller === 'object' ? caller : {};
    const defaults: Record<number, [string, string]> = {
      400: ['BadRequest', 'The request is invalid.'],
      401: ['InvalidAuthenticationToken', 'The access token is invalid.'],
      403: ['AuthorizationFailed', authorizationFailed(who, action, scope)],
      404: resourceNotFound(rec.path),
      409: ['Conflict', 'The request conflicts with the current state of the resource.'],
      429: [
        'SubscriptionRequestsThrottled',
        `Number of '${rec.method === 'GET' ? 'read' : 'write'}' requests for subscription '${subscriptionOf(rec.path) ?? ''}' actor '${who.objectId ?? 'fake'}' exceeded. Please try again after '1' seconds after the additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.`,
      ],
      500: [
        'InternalServerError',
        `Encountered internal server error. Diagnostic information: timestamp '${new Date().toISOString()}', tracking id '${randomUUID()}' (fake ARM).`,
      ],
      502: ['BadGateway', 'The gateway did not receive a response from the service (fake ARM).'],
      503: ['ServiceUnavailable', 'The server (fake ARM) is currently unable to receive requests. Please retry your request.'],
    };
    const [dc, dm] = defaults[status] ?? ['Error', `fake ARM error ${status}`];
    const c = code ?? dc;
    return { error: { code: c, message: message ?? (c === dc ? dm : `${c} (fake ARM)`) } };
  }
}

/** ARM action and scope of a request, as in AuthorizationFailed messages. */
export function armAction(method: string, path: string): { action: string; scope: string } {
  const verb = ({ GET: 'read', HEAD: 'read', PUT: 'write', PATCH: 'write', DELETE: 'delete', POST: 'action' } as Record<string, string>)[method] ?? 'read';
  const i = path.toLowerCase().lastIndexOf('/providers/');
  if (i < 0) {
    const rg = /\/resourcegroups\/[^/]+/i.test(path);
    return { action: `Microsoft.Resources/subscriptions${rg ? '/resourceGroups' : ''}/${verb}`, scope: path };
  }
  const segs = path.slice(i + '/providers/'.length).split('/');
  const ns = segs[0];
  const rest = segs.slice(1);
  const types = rest.filter((_, k) => k % 2 === 0);
  if (verb === 'action' && rest.length % 2 === 1 && rest.length > 1) {
    return { action: `${ns}/${types.join('/')}/action`, scope: path.slice(0, path.lastIndexOf('/')) };
  }
  return { action: `${ns}/${types.join('/')}/${verb}`, scope: path };
}

/** ARM's AuthorizationFailed message. */
function authorizationFailed(who: CallerIdentity, action: string, scope: string): string {
  return `The client '${who.appId ?? 'fake-client'}' with object id '${who.objectId ?? '00000000-0000-0000-0000-00000000c11e'}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`;
}

function resourceNotFound(path: string): [string, string] {
  const m = /\/resourcegroups\/([^/]+)\/providers\/([^/]+\/[^/]+)\/([^/]+)/i.exec(path);
  if (m) return ['ResourceNotFound', notFoundMessage(m[2], m[3], m[1])];
  return ['NotFound', `The resource at '${path}' was not found (fake ARM).`];
}

function notFoundMessage(type: string, name: string, rg: string): string {
  return `The Resource '${type}/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`;
}

function fullPermission(p: Partial<Permission>): Permission {
  return { actions: p.actions ?? [], notActions: p.notActions ?? [], dataActions: p.dataActions ?? [], notDataActions: p.notDataActions ?? [] };
}

/** Custom role rules (Azure docs, custom-roles "Custom role limits" and role-definitions). */
function customRoleProblem(p: {
  roleName?: string;
  assignableScopes?: string[];
  permissions?: Partial<Permission>[];
}): { code: string; message: string } | undefined {
  if (!p.roleName?.trim()) return { code: 'InvalidRoleDefinition', message: 'The role definition must have a roleName (fake ARM).' };
  if (!p.assignableScopes?.length) return { code: 'InvalidRoleDefinition', message: 'The role definition must have at least one assignable scope (fake ARM).' };
  if (p.assignableScopes.some((sc) => normScope(sc) === '')) {
    return { code: 'InvalidAssignableScope', message: "The root scope '/' is not allowed in assignableScopes of a custom role (fake ARM)." };
  }
  if (p.assignableScopes.some((sc) => sc.includes('*'))) {
    return { code: 'InvalidAssignableScope', message: 'Wildcards are not allowed in assignableScopes (fake ARM).' };
  }
  if (!p.permissions?.length) return { code: 'InvalidRoleDefinition', message: 'The role definition must have permissions (fake ARM).' };
  const strings = p.permissions.flatMap((x) => [...(x.actions ?? []), ...(x.notActions ?? []), ...(x.dataActions ?? []), ...(x.notDataActions ?? [])]);
  const twoWildcards = strings.find((a) => a.split('*').length > 2);
  if (twoWildcards)
    return { code: 'InvalidActionOrNotAction', message: `'${twoWildcards}' has more than one wildcard (fake ARM: Azure allows one per action string).` };
  return undefined;
}

function subscriptionOf(path: string): string | undefined {
  return /^\/subscriptions\/([^/]+)/i.exec(path)?.[1];
}

function raKey(scope: string, name: string): string {
  return `${scope.toLowerCase()}|${name.toLowerCase()}`;
}

function eq(a: string | undefined, b: string | undefined): boolean {
  return (a ?? '').toLowerCase() === (b ?? '').toLowerCase();
}

export { roleDefinitionFullId };
