// Azure RBAC evaluation as Azure documents it ("Understand Azure role definitions", "Understand scope", "Custom
// roles"): a principal may perform an action at a scope when some role assignment of that principal (or of one of
// its groups) at that scope or an ancestor scope references a role definition whose permissions allow it.
// Per permission block: allowed = matches one of actions (or dataActions) and none of notActions (notDataActions);
// `not*` lists subtract only within their own role, never across roles. Control-plane `actions` never grant
// data actions and vice versa. Strings are case-insensitive; `*` matches any characters (so `*/read` and
// `Microsoft.ContainerService/managedClusters/*` work as in Azure). Deny assignments and conditions (ABAC) are not
// modelled. Used by the fake ARM (its own control-plane checks) and by the fake Kubernetes API's guard.

export interface Permission {
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
}

export interface RoleDefinitionState {
  /** The role's GUID (the `name` of the ARM resource). */
  id: string;
  roleName: string;
  description?: string;
  type: 'BuiltInRole' | 'CustomRole';
  assignableScopes: string[];
  permissions: Permission[];
  createdOn: string;
  updatedOn: string;
  createdBy?: string;
  updatedBy?: string;
}

export interface AssignmentLike {
  scope: string;
  name: string;
  roleDefinitionId: string;
  principalId: string;
}

export type ActionKind = 'action' | 'dataAction';

export function actionMatches(pattern: string, action: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return re.test(action);
}

/** Whether one role definition's permissions allow `action`. */
export function roleAllows(def: Pick<RoleDefinitionState, 'permissions'>, action: string, kind: ActionKind): boolean {
  return def.permissions.some((p) => {
    const [allow, deny] = kind === 'dataAction' ? [p.dataActions, p.notDataActions] : [p.actions, p.notActions];
    return allow.some((a) => actionMatches(a, action)) && !deny.some((a) => actionMatches(a, action));
  });
}

/** An assignment at `assignmentScope` applies to `scope` when it is the scope itself or an ancestor of it. */
export function scopeCovers(assignmentScope: string, scope: string): boolean {
  const a = normScope(assignmentScope);
  const s = normScope(scope);
  return a === '' || a === s || s.startsWith(`${a}/`);
}

export function normScope(scope: string): string {
  return `/${scope.replace(/^\/+|\/+$/g, '')}`.toLowerCase().replace(/^\/$/, '');
}

/** The role GUID of `roleDefinitionId` (`/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/<guid>` or the GUID). */
export function roleGuid(roleDefinitionId: string): string {
  return (/([^/]+)$/.exec(roleDefinitionId)?.[1] ?? roleDefinitionId).toLowerCase();
}

export interface AccessDecision {
  allowed: boolean;
  /** The assignment that allowed it. */
  assignment?: AssignmentLike;
  role?: RoleDefinitionState;
}

/** Check `action` at `scope` for a principal and its groups, over the given assignments and role definitions. */
export function checkAccess(
  assignments: Iterable<AssignmentLike>,
  roleDefinition: (guid: string) => RoleDefinitionState | undefined,
  principalIds: string[],
  scope: string,
  action: string,
  kind: ActionKind,
): AccessDecision {
  const who = new Set(principalIds.map((p) => p.toLowerCase()));
  for (const a of assignments) {
    if (!who.has(a.principalId.toLowerCase()) || !scopeCovers(a.scope, scope)) continue;
    const role = roleDefinition(roleGuid(a.roleDefinitionId));
    if (role && roleAllows(role, action, kind)) return { allowed: true, assignment: a, role };
  }
  return { allowed: false };
}
