// The RBAC authorizer (plugin/pkg/auth/authorizer/rbac/rbac.go, rbac/v1 helpers VerbMatches, APIGroupMatches,
// ResourceMatches, ResourceNameMatches, NonResourceURLMatches) over the ClusterRoles, ClusterRoleBindings, Roles and
// RoleBindings stored in the fake, with aggregated ClusterRoles resolved on read (the aggregation controller's
// result). RBAC never denies: no matching rule is "no opinion"; a binding to a missing role adds "RBAC: ..." to the
// reason, as the real authorizer does. Also the escalation check of role and binding writes
// (pkg/registry/rbac/escalation_check.go, validation.ConfirmNoEscalation).
import type { PolicyRule } from './bootstrap-policy.js';
import { labelSelectorMatches } from './selectors.js';
import type { AuthzResult, KubeObject, RequestAttributes, UserInfo } from './types.js';

export interface RbacStore {
  clusterRoles(): KubeObject[];
  clusterRoleBindings(): KubeObject[];
  roles(ns: string): KubeObject[];
  roleBindings(ns: string): KubeObject[];
}

type Subject = { kind: string; name: string; namespace?: string; apiGroup?: string };
type RoleRef = { apiGroup: string; kind: string; name: string };

export function appliesTo(user: UserInfo, s: Subject, bindingNs: string): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === user.name;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount':
      return user.name === `system:serviceaccount:${s.namespace ?? bindingNs}:${s.name}`;
    default:
      return false;
  }
}

export function ruleAllows(attrs: Omit<RequestAttributes, 'user'>, r: PolicyRule): boolean {
  if (!r.verbs.includes('*') && !r.verbs.includes(attrs.verb)) return false;
  if (!attrs.isResourceRequest) {
    return (r.nonResourceURLs ?? []).some((u) => u === '*' || u === attrs.path || (u.endsWith('*') && attrs.path.startsWith(u.slice(0, -1))));
  }
  if (!(r.apiGroups ?? []).some((g) => g === '*' || g === attrs.apiGroup)) return false;
  const combined = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const resOk = (r.resources ?? []).some((res) => res === '*' || res === combined || (attrs.subresource !== '' && res === `*/${attrs.subresource}`));
  if (!resOk) return false;
  return !r.resourceNames?.length || r.resourceNames.includes(attrs.name);
}

export class RbacAuthorizer {
  constructor(private readonly store: RbacStore) {}

  /** Rules of a ClusterRole, aggregated ones included; undefined when it does not exist. */
  clusterRoleRules(name: string): PolicyRule[] | undefined {
    const role = this.store.clusterRoles().find((r) => r.metadata.name === name);
    if (!role) return undefined;
    const agg = role.aggregationRule as { clusterRoleSelectors?: Parameters<typeof labelSelectorMatches>[0][] } | undefined;
    if (agg?.clusterRoleSelectors?.length) {
      return this.store
        .clusterRoles()
        .filter((r) => r.metadata.name !== name && agg.clusterRoleSelectors!.some((s) => labelSelectorMatches(s, r.metadata.labels)))
        .flatMap((r) => (r.rules as PolicyRule[] | undefined) ?? []);
    }
    return (role.rules as PolicyRule[] | undefined) ?? [];
  }

  /** Every rule that applies to the user in a namespace (cluster-wide rules when ns is ''), and missing-role errors. */
  rulesFor(user: UserInfo, ns: string): { rules: PolicyRule[]; errors: string[] } {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    const resolve = (ref: RoleRef, bindingNs: string) => {
      if (ref.kind === 'ClusterRole') {
        const r = this.clusterRoleRules(ref.name);
        if (r) rules.push(...r);
        else errors.push(`clusterrole.rbac.authorization.k8s.io "${ref.name}" not found`);
      } else {
        const role = this.store.roles(bindingNs).find((r) => r.metadata.name === ref.name);
        if (role) rules.push(...((role.rules as PolicyRule[] | undefined) ?? []));
        else errors.push(`role.rbac.authorization.k8s.io "${ref.name}" not found`);
      }
    };
    for (const b of this.store.clusterRoleBindings()) {
      if (((b.subjects as Subject[] | undefined) ?? []).some((s) => appliesTo(user, s, ''))) resolve(b.roleRef as RoleRef, '');
    }
    if (ns) {
      for (const b of this.store.roleBindings(ns)) {
        if (((b.subjects as Subject[] | undefined) ?? []).some((s) => appliesTo(user, s, ns))) resolve(b.roleRef as RoleRef, ns);
      }
    }
    return { rules, errors };
  }

  authorize(attrs: RequestAttributes): AuthzResult {
    const { rules, errors } = this.rulesFor(attrs.user, attrs.namespace);
    if (rules.some((r) => ruleAllows(attrs, r))) return { decision: 'allow', reason: '', by: 'RBAC' };
    return { decision: 'no-opinion', reason: errors.length ? `RBAC: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}` : '', by: 'RBAC' };
  }

  /** The rules of `wanted` the user does not already hold in ns (empty: no escalation). */
  notHeld(user: UserInfo, ns: string, wanted: PolicyRule[]): PolicyRule[] {
    const { rules } = this.rulesFor(user, ns);
    const missing: PolicyRule[] = [];
    for (const w of wanted) {
      // expand the wanted rule into single (verb, group, resource, name) requests and check each is covered
      const names = w.resourceNames?.length ? w.resourceNames : [''];
      const reqs: Omit<RequestAttributes, 'user'>[] = w.nonResourceURLs?.length
        ? w.nonResourceURLs.flatMap((u) =>
            w.verbs.map((v) => ({
              verb: v,
              isResourceRequest: false,
              path: u,
              apiGroup: '',
              apiVersion: '',
              resource: '',
              subresource: '',
              namespace: ns,
              name: '',
            })),
          )
        : w.verbs.flatMap((v) =>
            (w.apiGroups ?? ['']).flatMap((g) =>
              (w.resources ?? []).flatMap((res) =>
                names.map((n) => {
                  const [resource, subresource = ''] = res.split('/');
                  return {
                    verb: v,
                    isResourceRequest: true,
                    path: '',
                    apiGroup: g,
                    apiVersion: 'v1',
                    resource: resource!,
                    subresource,
                    namespace: ns,
                    name: n,
                  };
                }),
              ),
            ),
          );
      if (!reqs.every((q) => rules.some((r) => ruleCovers(r, q)))) missing.push(w);
    }
    return missing;
  }
}

/** A held rule covers a requested one even for wildcards in the request (escalation check). */
function ruleCovers(r: PolicyRule, q: Omit<RequestAttributes, 'user'>): boolean {
  if (!r.verbs.includes('*') && !r.verbs.includes(q.verb)) return false;
  if (!q.isResourceRequest) return (r.nonResourceURLs ?? []).some((u) => u === '*' || u === q.path || (u.endsWith('*') && q.path.startsWith(u.slice(0, -1))));
  if (!(r.apiGroups ?? []).some((g) => g === '*' || g === q.apiGroup)) return false;
  const combined = q.subresource ? `${q.resource}/${q.subresource}` : q.resource;
  if (!(r.resources ?? []).some((res) => res === '*' || res === combined || (q.subresource !== '' && res === `*/${q.subresource}`))) return false;
  return !r.resourceNames?.length || (q.name !== '' && r.resourceNames.includes(q.name));
}
