import type { CallerIdentity } from './fake-arm.js';
import type { FakeEntra } from './fake-entra.js';
import type { FakeHimds } from './fake-himds.js';
import { audienceOf } from './jwt.js';

/**
 * The FAKE ARM's bearer check for a rig, as ARM authenticates: the operator's Entra tokens, and the managed
 * identity tokens of Arc machines (their HIMDS) whose audience is ARM itself (the endpoint the rig's ARM serves,
 * or management.azure.com). A token for another audience (AKS's server application) is refused, as ARM does:
 * https://learn.microsoft.com/azure/azure-arc/servers/managed-identity-authentication (tokens from the local
 * identity endpoint are Entra tokens of the machine's system-assigned identity, oid = its principalId).
 */
export function armCallers(entra: FakeEntra, himds: () => readonly FakeHimds[], armUrl: () => string | undefined): (token: string) => false | CallerIdentity {
  const armAudiences = () =>
    new Set([armUrl(), 'https://management.azure.com', 'https://management.core.windows.net'].filter(Boolean).map((a) => a!.replace(/\/+$/, '')));
  return (token) => {
    const issued = entra.lookup(token);
    if (issued) return { appId: issued.clientId, objectId: issued.objectId };
    for (const h of himds()) {
      const t = h.lookup(token);
      if (t && armAudiences().has(audienceOf(t.resource).replace(/\/+$/, ''))) return { appId: t.principalId, objectId: t.principalId };
    }
    return false;
  };
}
