import type { FlexnodeConfig } from '@flexnode/sdk';

/** The namespace of the upgrade slots by default: every cluster has it, and the node identity keeps its own Lease there. */
export const DEFAULT_LEASE_NAMESPACE = 'kube-node-lease';
/** A slot's Lease lapses this long after its holder last renewed it (a node that died frees its slot). */
export const SLOT_LEASE_SECONDS = 300;

/** `kubernetes.upgrade` with its defaults. */
export function upgradeSettings(config: FlexnodeConfig): { maxConcurrent: number; leaseNamespace: string } {
  const u = config.kubernetes?.upgrade ?? {};
  return { maxConcurrent: u.maxConcurrent ?? 1, leaseNamespace: u.leaseNamespace ?? DEFAULT_LEASE_NAMESPACE };
}
