// The ClusterRoleBindings that let a bootstrap token's group get a node client certificate, as kubeadm sets them up
// (cmd/kubeadm/app/phases/bootstraptoken/node/tlsbootstrap.go): system:node-bootstrapper (create CSRs) and
// certificatesigningrequests:nodeclient (the csrapproving controller approves a new node's client CSR) bound to the
// token's group, and certificatesigningrequests:selfnodeclient bound to system:nodes (a node renews its own
// certificate). The group gets nothing else: a bootstrap token can create a CSR, and that is all.
//
// The bindings are shared by every flexnode node of a cluster (one set, not one per node: the RBAC authorizer walks
// every binding on every request). Each records the nodes using it in an annotation; a node adds itself with an
// update guarded by resourceVersion, removes itself on unbootstrap, and the last one deletes the binding (a delete
// guarded by the same resourceVersion). A binding that exists without flexnode's label is someone else's: used,
// never changed or deleted. A node that vanished without unbootstrap keeps its name there: the binding stays (safe).
import { BOOTSTRAP_GROUP, MANAGED_BY } from './token.js';
import type { OperatorKube } from '../cluster/operator-kube.js';

export const NODES_ANNOTATION = 'flexnode.io/nodes';
const CRB = '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings';
const SELF_NODE_CLIENT = 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient';

export interface BindingSpec {
  name: string;
  clusterRole: string;
  group: string;
  /** What the binding is for, for logs and the README. */
  why: string;
}

export const BOOTSTRAP_BINDINGS: readonly BindingSpec[] = [
  {
    name: 'flexnode:kubelet-bootstrap',
    clusterRole: 'system:node-bootstrapper',
    group: BOOTSTRAP_GROUP,
    why: 'the bootstrap token may create a certificate signing request',
  },
  {
    name: 'flexnode:node-autoapprove-bootstrap',
    clusterRole: 'system:certificates.k8s.io:certificatesigningrequests:nodeclient',
    group: BOOTSTRAP_GROUP,
    why: "the bootstrap token's node client CSR is approved",
  },
  {
    name: 'flexnode:node-autoapprove-certificate-rotation',
    clusterRole: SELF_NODE_CLIENT,
    group: 'system:nodes',
    why: 'a node renews its own client certificate',
  },
];

type Binding = {
  metadata: { name: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  roleRef?: { kind?: string; name?: string };
  subjects?: { kind?: string; name?: string }[];
};

const users = (b: Binding) => (b.metadata.annotations?.[NODES_ANNOTATION] ?? '').split(',').filter(Boolean);
const ours = (b: Binding) => b.metadata.labels?.['app.kubernetes.io/managed-by'] === MANAGED_BY['app.kubernetes.io/managed-by'];
const grants = (b: Binding, role: string, group: string) =>
  b.roleRef?.kind === 'ClusterRole' && b.roleRef.name === role && (b.subjects ?? []).some((s) => s.kind === 'Group' && s.name === group);

function manifest(spec: BindingSpec, nodes: string[], from?: Binding): Record<string, unknown> {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: {
      name: spec.name,
      ...(from?.metadata.resourceVersion ? { resourceVersion: from.metadata.resourceVersion } : {}),
      labels: { ...(from?.metadata.labels ?? {}), ...MANAGED_BY },
      annotations: { ...(from?.metadata.annotations ?? {}), [NODES_ANNOTATION]: [...new Set(nodes)].sort().join(',') },
    },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: spec.clusterRole },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: spec.group }],
  };
}

/** What `ensureBinding` found or did. */
export type EnsureOutcome = 'created' | 'joined' | 'present' | 'theirs';

/**
 * Make sure `spec`'s grant exists and `node` is recorded as using it. For the renewal grant, any binding already
 * giving selfnodeclient to system:nodes (kubeadm's, AKS's own) counts, and flexnode adds none.
 */
export async function ensureBinding(kube: OperatorKube, spec: BindingSpec, node: string): Promise<EnsureOutcome> {
  if (spec.clusterRole === SELF_NODE_CLIENT) {
    const list = await kube.call('GET', CRB, 'list the ClusterRoleBindings');
    const existing = ((list.body.items ?? []) as Binding[]).find((b) => !ours(b) && grants(b, spec.clusterRole, spec.group));
    if (existing) return 'theirs';
  }
  for (let attempt = 0; ; attempt++) {
    const got = await kube.call('GET', `${CRB}/${spec.name}`, `read the ClusterRoleBinding ${spec.name}`, undefined, [200, 404]);
    if (got.status === 404) {
      const made = await kube.call('POST', CRB, `create the ClusterRoleBinding ${spec.name} (${spec.why})`, { json: manifest(spec, [node]) }, [201, 409]);
      if (made.status === 201) return 'created';
      continue; // created meanwhile by another node: join it
    }
    const b = got.body as unknown as Binding;
    if (!ours(b)) return 'theirs';
    if (users(b).includes(node)) return 'present';
    const put = await kube.call(
      'PUT',
      `${CRB}/${spec.name}`,
      `record node ${node} on the ClusterRoleBinding ${spec.name}`,
      { json: manifest(spec, [...users(b), node], b) },
      [200, 409],
    );
    if (put.status === 200) return 'joined';
    if (attempt >= 5) throw new Error(`the ClusterRoleBinding ${spec.name} kept changing while node ${node} was added to it`);
  }
}

/** Remove `node` from the binding; delete it when no node is left. Returns whether it was deleted. */
export async function releaseBinding(kube: OperatorKube, name: string, node: string): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    const got = await kube.call('GET', `${CRB}/${name}`, `read the ClusterRoleBinding ${name}`, undefined, [200, 404]);
    if (got.status === 404) return false;
    const b = got.body as unknown as Binding;
    if (!ours(b)) return false;
    const left = users(b).filter((n) => n !== node);
    const spec = BOOTSTRAP_BINDINGS.find((s) => s.name === name);
    if (!spec) return false;
    const answer =
      left.length === 0
        ? await kube.call(
            'DELETE',
            `${CRB}/${name}`,
            `delete the ClusterRoleBinding ${name}`,
            { json: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion: b.metadata.resourceVersion } } },
            [200, 202, 404, 409],
          )
        : await kube.call(
            'PUT',
            `${CRB}/${name}`,
            `remove node ${node} from the ClusterRoleBinding ${name}`,
            { json: manifest(spec, left, b) },
            [200, 404, 409],
          );
    if (answer.status !== 409) return left.length === 0 && answer.status !== 404;
    if (attempt >= 5) throw new Error(`the ClusterRoleBinding ${name} kept changing while node ${node} was removed from it`);
  }
}
