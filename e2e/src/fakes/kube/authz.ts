// The authorizer chain of an AKS API server: Node, RBAC, then the guard webhook when Azure RBAC is on (both
// models work on the same cluster: Kubernetes RBAC bindings are honoured, and Azure role assignments through
// guard). The union (k8s.io/apiserver/pkg/authorization/union): the first Allow or Deny wins; otherwise "no
// opinion" with every authorizer's reason joined by newlines. The 403 message is the API server's
// (endpoints/handlers/responsewriters/errors.go forbiddenMessage + ": " + reason).
import type { GuardAuthorizer } from './guard.js';
import type { NodeAuthorizer } from './node-authorizer.js';
import type { RbacAuthorizer } from './rbac.js';
import { errors, type KubeError } from './status.js';
import type { AuthzResult, RequestAttributes } from './types.js';

export class AuthorizerChain {
  constructor(
    private readonly node: NodeAuthorizer,
    readonly rbac: RbacAuthorizer,
    private readonly guard: GuardAuthorizer,
  ) {}

  authorize(attrs: RequestAttributes): AuthzResult {
    const reasons: string[] = [];
    for (const a of [this.node, this.rbac, this.guard]) {
      const r = a.authorize(attrs);
      if (r.decision !== 'no-opinion') return r;
      if (r.reason) reasons.push(r.reason);
    }
    return { decision: 'no-opinion', reason: reasons.join('\n') };
  }
}

/** `User "x" cannot <verb> resource "<res>[/<sub>]" in API group "<g>" in the namespace "<ns>"` / at the cluster scope. */
export function forbiddenMessage(a: RequestAttributes): string {
  if (!a.isResourceRequest) return `User "${a.user.name}" cannot ${a.verb} path "${a.path}"`;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return `User "${a.user.name}" cannot ${a.verb} resource "${res}" in API group "${a.apiGroup}" ${where}`;
}

/** The 403 the API server answers for an unauthorized request. */
export function forbidden(a: RequestAttributes, reason: string): KubeError {
  const why = `${forbiddenMessage(a)}${reason ? `: ${reason}` : ''}`;
  return errors.forbidden(a.isResourceRequest ? a.resource : '', a.apiGroup, a.name, why);
}
