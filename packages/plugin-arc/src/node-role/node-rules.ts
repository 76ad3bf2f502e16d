// The Kubernetes RBAC rules a node's components hold, as data: what flexnode's custom Azure role is derived from
// (./data-actions.ts maps them to dataActions as guard does). A rule changes here when Kubernetes changes it; the
// role follows the cluster's version.
//
// Sources (kubernetes/kubernetes):
//  - `system:node`: plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go, NodeRules(), releases 1.30 to 1.35.
//    Rules behind a feature gate are in the role only while the gate is on; the defaults per version come from
//    pkg/features/kube_features.go (versioned specs): DynamicResourceAllocation alpha 1.26 (off), beta 1.32 (off),
//    GA 1.34 (on); KubeletServiceAccountTokenForCredentialProviders alpha 1.33 (off), beta 1.34 (on);
//    ClusterTrustBundle(Projection) off by default through 1.35. (PodCertificateRequest, alpha in 1.34 and off by
//    default, adds podcertificaterequests: not listed until it is on by default.)
//  - The Node authorizer (plugin/pkg/auth/authorizer/node/node_authorizer.go) limits a node's leases to the
//    kube-node-lease namespace ("can only access leases in the kube-node-lease system namespace").
//  - `system:node-proxier` (kube-proxy): policy.go, ClusterRoles(): services and endpoints list/watch, nodes
//    get/list/watch, events (core and events.k8s.io) create/update/patch, endpointslices list/watch; servicecidrs
//    list/watch while MultiCIDRServiceAllocator is on (beta 1.31, off; GA 1.33, on), which kube-proxy then watches
//    (cmd/kube-proxy/app/server.go).

import type { FlexnodeConfig } from '@flexnode/sdk';
import { nodeComponents } from './components.js';

/** One rule of a ClusterRole, as policy.go writes it. */
export interface RbacRule {
  verbs: readonly string[];
  apiGroups: readonly string[];
  /** `resource` or `resource/subresource`. */
  resources: readonly string[];
}

/** The components whose rules flexnode knows, and the ClusterRole each one's rules come from. */
export const NODE_COMPONENTS = { kubelet: 'system:node', 'kube-proxy': 'system:node-proxier' } as const;
export type NodeComponent = keyof typeof NODE_COMPONENTS;

export interface NodeRuleRow extends RbacRule {
  component: NodeComponent;
  /** What the component needs it for (policy.go's comments). */
  why: string;
  /** A feature gate that adds the rule, and the first minor where the gate is on by default (none: off so far). */
  gate?: { name: string; onByDefaultSince?: string };
  /** The only namespace the Node authorizer lets a node use this in. */
  namespace?: string;
}

/** The newest Kubernetes minor the table was checked against; newer minors get the newest rows. */
export const RULES_VERIFIED_THROUGH = '1.35';

const READ = ['get', 'list', 'watch'] as const;
const row = (
  component: NodeComponent,
  verbs: readonly string[],
  apiGroups: readonly string[],
  resources: readonly string[],
  why: string,
  extra: Partial<NodeRuleRow> = {},
): NodeRuleRow => ({ component, verbs, apiGroups, resources, why, ...extra });

export const NODE_RULES: readonly NodeRuleRow[] = [
  row('kubelet', ['create'], ['authentication.k8s.io'], ['tokenreviews'], 'authenticate callers of its API (webhook authentication)'),
  row(
    'kubelet',
    ['create'],
    ['authorization.k8s.io'],
    ['subjectaccessreviews', 'localsubjectaccessreviews'],
    'authorize callers of its API (webhook authorization)',
  ),
  row('kubelet', READ, [''], ['services'], 'service environment variables of its pods'),
  row('kubelet', ['create', 'get', 'list', 'watch'], [''], ['nodes'], 'register and watch its Node'),
  row('kubelet', ['update', 'patch'], [''], ['nodes/status'], 'report node status'),
  row('kubelet', ['update', 'patch'], [''], ['nodes'], 'update its Node (labels, taints at registration)'),
  row('kubelet', ['create', 'update', 'patch'], [''], ['events'], 'post node and pod events'),
  row('kubelet', READ, [''], ['pods'], 'the pods bound to it'),
  row('kubelet', ['create', 'delete'], [''], ['pods'], 'mirror pods of static pods; deleting pods it stopped'),
  row('kubelet', ['update', 'patch'], [''], ['pods/status'], 'report pod status'),
  row('kubelet', ['create'], [''], ['pods/eviction'], 'evict pods (node pressure, graceful shutdown)'),
  row('kubelet', READ, [''], ['secrets', 'configmaps'], 'secret and configmap volumes, env, image pull secrets'),
  row('kubelet', ['get'], [''], ['persistentvolumeclaims', 'persistentvolumes'], 'persistent volumes of its pods'),
  row('kubelet', ['get'], [''], ['endpoints'], 'glusterfs volumes'),
  row('kubelet', ['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests'], 'its client and serving certificates'),
  row('kubelet', ['get', 'create', 'update', 'patch', 'delete'], ['coordination.k8s.io'], ['leases'], 'its node Lease (heartbeat)', {
    namespace: 'kube-node-lease',
  }),
  row('kubelet', ['get'], ['storage.k8s.io'], ['volumeattachments'], 'CSI volume attachments'),
  row('kubelet', ['create'], [''], ['serviceaccounts/token'], 'service-account token volumes of its pods'),
  row('kubelet', ['get', 'update', 'patch'], [''], ['persistentvolumeclaims/status'], 'volume expansion status'),
  row('kubelet', ['get', 'watch', 'list'], ['storage.k8s.io'], ['csidrivers'], 'CSI drivers'),
  row('kubelet', ['get', 'create', 'update', 'patch', 'delete'], ['storage.k8s.io'], ['csinodes'], 'its CSINode'),
  row('kubelet', READ, ['node.k8s.io'], ['runtimeclasses'], 'runtime classes of its pods'),
  row('kubelet', ['get'], ['resource.k8s.io'], ['resourceclaims'], 'DRA resource claims of its pods', {
    gate: { name: 'DynamicResourceAllocation', onByDefaultSince: '1.34' },
  }),
  row(
    'kubelet',
    [...READ, 'create', 'update', 'patch', 'delete', 'deletecollection'],
    ['resource.k8s.io'],
    ['resourceslices'],
    "DRA drivers publishing the node's devices",
    { gate: { name: 'DynamicResourceAllocation', onByDefaultSince: '1.34' } },
  ),
  row('kubelet', ['get'], [''], ['serviceaccounts'], 'service-account tokens for image credential providers', {
    gate: { name: 'KubeletServiceAccountTokenForCredentialProviders', onByDefaultSince: '1.34' },
  }),
  row('kubelet', READ, ['certificates.k8s.io'], ['clustertrustbundles'], 'clusterTrustBundle projected volumes', {
    gate: { name: 'ClusterTrustBundleProjection' },
  }),
  row('kube-proxy', ['list', 'watch'], [''], ['services', 'endpoints'], 'the services it implements'),
  row('kube-proxy', READ, [''], ['nodes'], 'its own Node (addresses, topology)'),
  row('kube-proxy', ['create', 'update', 'patch'], ['', 'events.k8s.io'], ['events'], 'events'),
  row('kube-proxy', ['list', 'watch'], ['discovery.k8s.io'], ['endpointslices'], 'the endpoints of the services'),
  row(
    'kube-proxy',
    ['list', 'watch'],
    ['networking.k8s.io'],
    ['servicecidrs'],
    "the cluster's service ranges (traffic to an unallocated ClusterIP is rejected)",
    { gate: { name: 'MultiCIDRServiceAllocator', onByDefaultSince: '1.33' } },
  ),
];

/** The namespace of the kubelet's own Lease, where the Node authorizer lets a node keep Leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/**
 * flexnode's own calls as the node beyond the kubelet's (arc-msi; plugin-kube README, "Who makes which call"): the
 * cordon and the drain are within the kubelet's rows (nodes patch, pods list, pods/eviction create), the upgrade
 * slots are Leases `flexnode-upgrade-<i>` in `kubernetes.upgrade.leaseNamespace`. In kube-node-lease the kubelet's
 * Lease row covers them; another namespace needs a row of its own.
 */
export function upgradeSlotRows(leaseNamespace: string): NodeRuleRow[] {
  if (leaseNamespace === NODE_LEASE_NAMESPACE) return [];
  return [
    row('kubelet', ['get', 'create', 'update'], ['coordination.k8s.io'], ['leases'], "flexnode upgrade's slots (a fleet's concurrent upgrades)", {
      namespace: leaseNamespace,
    }),
  ];
}

/**
 * Rows beyond the components' own: the upgrade slots' Leases when the node identity holds them (arc-msi: the
 * kubelet's identity; in bootstrap-token mode the operator does) in a namespace other than kube-node-lease.
 */
export function nodeRoleExtras(config: FlexnodeConfig): NodeRuleRow[] {
  if (!nodeComponents(config).includes('kubelet')) return [];
  return upgradeSlotRows(config.kubernetes?.upgrade?.leaseNamespace ?? NODE_LEASE_NAMESPACE);
}

/** "1.35.6", "v1.35", "1.30.101-akslts" → [1, 35]; undefined when it is not a Kubernetes version. */
export function minorOf(version: string): [number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

const atLeast = (version: [number, number], minor: string) => {
  const [major, min] = minorOf(minor)!;
  return version[0] > major || (version[0] === major && version[1] >= min);
};

/** The rows of these components that are in their roles on a cluster of `version` (default feature gates). */
export function rulesFor(version: string, components: readonly NodeComponent[]): NodeRuleRow[] {
  const v = minorOf(version);
  if (!v) throw new Error(`not a Kubernetes version: ${JSON.stringify(version)}`);
  return NODE_RULES.filter(
    (r) => components.includes(r.component) && (!r.gate || (r.gate.onByDefaultSince !== undefined && atLeast(v, r.gate.onByDefaultSince))),
  );
}
