// AKS's Azure RBAC for Kubernetes authorization: the guard webhook (kubeguard/guard authz/providers/azure) as the
// API server's last authorizer. Mapping (authz/providers/azure/rbac/checkaccessreqhelper.go getDataActions,
// getActionName, getResourceAndAction, getScope): dataAction =
// Microsoft.ContainerService/managedClusters[/<group>]/<resource>/<read|write|delete|<verb>/action>, verbs
// get/list/watch -> read, create/update/patch -> write, delete/deletecollection -> delete, impersonate/bind/
// escalate/use -> `<verb>/action`; subresources are dropped except pods/exec (`pods/exec/action`); the core group
// is omitted; names are never part of it; scope = the cluster's resource id, or `<id>/namespaces/<ns>` for a
// namespaced request. Users `system:*` get "no opinion" (azure.go Check), users without the `oid` extra (not from
// Entra) get no opinion too (NonAADUserNoOpVerdict; AKS's setting for --azure.skip-authz-for-non-aad-users is not
// published, so this is configurable), GET of discovery paths is allowed (AllowNonResPathDiscoveryAccess). The
// decision comes from the role assignments and role definitions the fake ARM holds; a denial is a Deny (not "no
// opinion") whose reason is CheckAccess v2's "Access denied for action: <dataAction>" (checkaccess_v2.go).
import type { AzureRbacSource } from '../fake-arm.js';
import type { AuthzResult, RequestAttributes } from './types.js';

export const MANAGED_CLUSTERS = 'Microsoft.ContainerService/managedClusters';
export const NO_OPINION_VERDICT = 'Azure does not have opinion for this user.';
export const NON_AAD_NO_OP_VERDICT =
  'Azure does not have opinion for this non AAD user. If you are an AAD user, please set Extra:oid parameter for impersonated user in the kubeconfig';
export const NON_AAD_DENIED_VERDICT =
  'Access denied by Azure RBAC for non AAD users. Configure --azure.skip-authz-for-non-aad-users to enable access. If you are an AAD user, please set Extra:oid parameter for impersonated user in the kubeconfig.';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function actionName(verb: string): string {
  switch (verb) {
    case 'get':
    case 'list':
    case 'watch':
      return 'read';
    case 'create':
    case 'update':
    case 'patch':
      return 'write';
    case 'delete':
    case 'deletecollection':
      return 'delete';
    case 'bind':
    case 'escalate':
    case 'use':
    case 'impersonate':
      return `${verb}/action`;
    case '*':
      return '*';
    default:
      return '';
  }
}

/** The dataAction guard checks for a request. */
export function dataActionOf(a: Omit<RequestAttributes, 'user'>): string {
  if (!a.isResourceRequest) return [MANAGED_CLUSTERS, a.path.replace(/^\/+|\/+$/g, ''), actionName(a.verb)].filter(Boolean).join('/');
  const action = a.resource === 'pods' && a.subresource === 'exec' ? 'pods/exec/action' : `${a.resource}/${actionName(a.verb)}`;
  return [MANAGED_CLUSTERS, a.apiGroup, action].filter(Boolean).join('/');
}

/** The scope guard checks at: the cluster, or its namespace. */
export function guardScope(clusterId: string, a: Pick<RequestAttributes, 'namespace'>): string {
  return a.namespace ? `${clusterId}/namespaces/${a.namespace}` : clusterId;
}

export interface GuardLink {
  source: AzureRbacSource;
  clusterId: string;
}

export class GuardAuthorizer {
  /** Decisions by principals, action and scope, with when they expire (guard's BigCache, --azure.cache-ttl-minutes). */
  private readonly cache = new Map<string, { result: AuthzResult; until: number }>();

  constructor(
    private readonly link: () => GuardLink | undefined,
    private readonly nonAadUsers: () => 'no-opinion' | 'deny',
    private readonly cacheMs = 0,
  ) {}

  /** Whether the webhook is configured at all: an Entra ID cluster with Azure RBAC enabled. */
  enabled(): boolean {
    const l = this.link();
    const c = l && l.source.cluster(l.clusterId);
    return !!c?.aadProfile?.enableAzureRBAC;
  }

  authorize(a: RequestAttributes): AuthzResult {
    const l = this.link();
    if (!l || !this.enabled()) return { decision: 'no-opinion', reason: '', by: 'guard' };
    if (a.user.name.toLowerCase().startsWith('system:')) return { decision: 'no-opinion', reason: NO_OPINION_VERDICT, by: 'guard' };
    const oid = a.user.extra?.oid?.[0];
    if (!oid) {
      return this.nonAadUsers() === 'deny'
        ? { decision: 'deny', reason: NON_AAD_DENIED_VERDICT, by: 'guard' }
        : { decision: 'no-opinion', reason: NON_AAD_NO_OP_VERDICT, by: 'guard' };
    }
    if (!a.isResourceRequest && a.verb === 'get' && /^\/(api|openapi|version|healthz)/i.test(a.path)) {
      return { decision: 'allow', reason: 'Access allowed by Azure RBAC', by: 'guard' };
    }
    const action = dataActionOf(a);
    const principals = [oid, ...a.user.groups.filter((g) => GUID.test(g))];
    const scope = guardScope(l.clusterId, a);
    const key = `${principals.join(',')}|${action}|${scope}`;
    const cached = this.cache.get(key);
    if (cached && cached.until > Date.now()) return cached.result;
    const d = l.source.checkAccess(principals, scope, action, 'dataAction');
    const result: AuthzResult = d.allowed
      ? {
          decision: 'allow',
          by: 'guard',
          reason: `Access allowed by Azure RBAC Role Assignment ${d.assignment!.scope}/providers/Microsoft.Authorization/roleAssignments/${d.assignment!.name} of Role ${d.assignment!.roleDefinitionId} to user ${a.user.name}`,
        }
      : { decision: 'deny', reason: `Access denied for action: ${action}`, by: 'guard' };
    if (this.cacheMs > 0) this.cache.set(key, { result, until: Date.now() + this.cacheMs });
    return result;
  }
}
