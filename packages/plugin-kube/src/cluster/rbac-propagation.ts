import type { Logger } from '@flexnode/sdk';
import type { ApiAnswer } from '../kubelet/api.js';

/** Between two asks of a denied request: a denial is cached for minutes, asking more often changes nothing. */
export const DENIED_POLL_MS = 10_000;

/** How a node identity's request denied while Azure RBAC propagates is asked again. */
export interface DeniedRetry {
  /** From the first denial, how long to keep asking (rbacPropagationSeconds); 0: never again. */
  seconds: number;
  /** Between two asks. */
  pollMs: number;
  log: Logger;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * `call` (a request of the node identity, authorized by Azure RBAC through AKS's guard webhook) until it is not
 * denied, or `seconds` after its first denial. A role assignment reaches the authorizer minutes after ARM lists it
 * ("New role assignments can take up to 5 minutes to propagate and be updated by the authorization server",
 * aks-docs manage-azure-rbac.md), and a denial made meanwhile is cached: 3 minutes in guard (--azure.cache-ttl-minutes,
 * kubeguard/guard authz/providers/azure/CACHING.md, denials included), and again in the API server's webhook cache
 * (--authorization-webhook-cache-unauthorized-ttl: 30 s by Kubernetes' default, 5 minutes in guard's recommended
 * setup; AKS does not publish its value). So the first join, right after arc.roles granted the roles, may be denied
 * for minutes by a grant that is there; the default wait (600 s) covers propagation and guard's cache, a best effort
 * where the API server caches longer.
 * Only an authorizer's 403 is asked again (not an admission plugin's refusal, nor a 401: the token, not its roles),
 * and callers wait only on a node's first join, right after its roles were granted: a denial on a re-run or a heal
 * is a role taken away, and fails at once. The last answer is returned whatever it is.
 */
export async function whileDenied<T>(what: string, call: () => Promise<T>, o: DeniedRetry): Promise<T> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let deadline: number | undefined;
  for (;;) {
    const answer = await call();
    const denied = isAuthorizationDenial(answer);
    if (!denied || o.seconds <= 0) return answer;
    const at = now();
    if (deadline === undefined) {
      deadline = at + o.seconds * 1000;
      const reason = String((answer as ApiAnswer).body?.message ?? '').slice(0, 300);
      o.log.warn(
        `${what}: the cluster denies the node identity (HTTP 403${reason ? `: ${reason}` : ''}); Azure RBAC role assignments take up to 5 minutes to reach AKS and a denial stays cached for minutes: asking again until ${new Date(deadline).toISOString()} (pluginConfig["@flexnode/plugin-kube"].rbacPropagationSeconds)`,
      );
    }
    if (at >= deadline) return answer;
    await sleep(Math.min(o.pollMs, deadline - at));
  }
}

/**
 * A 403 of the authorizers: the API server's forbidden message for them says `cannot <verb> resource` (RBAC's and
 * guard's verdicts, apiserver endpoints/handlers/responsewriters Forbidden), guard's own reason `Access denied`.
 * An admission plugin's 403 (NodeRestriction: "is not allowed to modify") is none: no wait makes it pass.
 */
export function isAuthorizationDenial(answer: unknown): boolean {
  const a = answer as Partial<ApiAnswer> | undefined;
  if (a?.status !== 403) return false;
  const message = String(a.body?.message ?? '');
  return /cannot [\w-]+ resource|Access denied/i.test(message);
}
