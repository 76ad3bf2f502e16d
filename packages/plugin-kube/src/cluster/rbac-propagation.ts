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
 * kubeguard/guard authz/providers/azure/CACHING.md, denials included) and in the API server's webhook cache. So the
 * first bootstrap, right after arc.roles granted the roles, may be denied for minutes by a grant that is there.
 * Only 403 is asked again: a 401 is the token, not its roles. The last answer is returned whatever it is.
 */
export async function whileDenied<T>(what: string, call: () => Promise<T>, o: DeniedRetry): Promise<T> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let deadline: number | undefined;
  for (;;) {
    const answer = await call();
    const denied = (answer as Partial<ApiAnswer> | undefined)?.status === 403;
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
