import type { AzureContext, FlexnodeConfig, Host, NodeIdentity } from '@flexnode/sdk';
import { kubeletAuth } from '../auth.js';
import { operatorKubeToken } from '../cluster/operator-kube.js';
import { nodeConnection } from '../kubelet/node-access.js';
import { httpsKubeApi, type KubeApi, type KubeApiFactory } from './api.js';

/** The calls of the upgrade slots (Leases). */
export type SlotsApi = Pick<KubeApi, 'getLease' | 'createLease' | 'updateLease'>;

/**
 * Who makes node maintenance's calls (cordon, drain, upgrade slots), by what the cluster authorizes:
 *  - `node`, the node's own identity, for its Node (read, cordon, uncordon), the pods bound to it (list with the
 *    `spec.nodeName` selector, evict) and /version. `system:node` has `nodes` patch and `pods/eviction` create, and
 *    NodeRestriction limits them to its own Node and the pods bound to it (kubernetes
 *    plugin/pkg/admission/noderestriction/admission.go, admitNode and admitPodEviction); a drain never reads
 *    PodDisruptionBudgets: the Eviction API applies them (429). In arc-msi mode flexnode's node role carries the
 *    same rules as dataActions (nodes/write, pods/read, pods/write).
 *  - `slots`, the upgrade slots' Leases: in arc-msi mode the node's identity (the node role grants Leases in
 *    kube-node-lease, and in kubernetes.upgrade.leaseNamespace when that is another namespace); in bootstrap-token
 *    mode the operator, because the Node authorizer and NodeRestriction let `system:node:<name>` touch no Lease
 *    but its own ("can only access node lease with the same name as the requesting node").
 */
export interface MaintenanceClients {
  /** The API server, for messages. */
  server: string;
  node: KubeApi;
  slots: SlotsApi;
  /** Who holds the slots: `node` or `operator`, for messages. */
  slotHolder: 'node' | 'operator';
}

/** The clients of a joined node (undefined while there is no kubeconfig). */
export async function maintenanceClients(
  host: Host,
  config: FlexnodeConfig,
  identity: NodeIdentity,
  azure: AzureContext | undefined,
  o: { nodeApi?: KubeApiFactory; purpose: string },
): Promise<MaintenanceClients | undefined> {
  const connection = await nodeConnection(host, config, identity);
  if (!connection) return undefined;
  const make = o.nodeApi ?? httpsKubeApi;
  const node = make(connection);
  if (kubeletAuth(config) !== 'bootstrap-token') return { server: connection.server, node, slots: node, slotHolder: 'node' };
  // The operator's Entra token, asked for only when a slot is touched: a drain alone needs no operator.
  const purpose = `${o.purpose} (the upgrade slots: a node's certificate may hold no Lease but its own)`;
  const operator = make({ ...connection, credential: async () => ({ token: await operatorKubeToken(azure, purpose) }) });
  return { server: connection.server, node, slots: operator, slotHolder: 'operator' };
}
