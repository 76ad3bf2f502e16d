// The NodeRestriction admission plugin (plugin/pkg/admission/noderestriction/admission.go) for writes by
// system:node:<name>: a node may create only mirror pods bound to itself that reference no service account, secret,
// configmap or PVC; delete, update the status of, and evict only pods bound to itself (status without label
// changes); create or modify only its own Node (no node-restriction.kubernetes.io/ labels, no taint changes, no
// kubernetes.io/k8s.io labels outside the kubelet's set on update); touch only its own Lease in kube-node-lease
// and its own CSINode; request service-account tokens only bound to a pod (with uid) scheduled on itself; update
// only status.capacity/conditions of PVCs. Errors are the plugin's, as admission.NewForbidden formats them.
import { nodeIdentity } from './node-authorizer.js';
import type { ApiResource } from './api-resources.js';
import { errors, type KubeError } from './status.js';
import type { KubeObject, UserInfo } from './types.js';

export interface AdmissionRequest {
  user: UserInfo;
  operation: 'create' | 'update' | 'delete';
  res: ApiResource;
  subresource: string;
  namespace: string;
  name: string;
  /** The object being written (the Eviction or TokenRequest for those subresources). */
  object?: KubeObject;
  old?: KubeObject;
}

export interface RestrictionLookups {
  pod(ns: string, name: string): KubeObject | undefined;
  node(name: string): KubeObject | undefined;
}

const MIRROR = 'kubernetes.io/config.mirror';
// pkg/kubelet/apis/well_known_labels.go: labels a kubelet may set on its Node
const KUBELET_LABELS = new Set([
  'kubernetes.io/hostname',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'kubernetes.io/arch',
  'kubernetes.io/os',
  'node.kubernetes.io/instance-type',
  'beta.kubernetes.io/instance-type',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
]);
const KUBELET_LABEL_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

const labelNamespace = (key: string) => (key.includes('/') ? key.split('/')[0]! : '');
const inNs = (ns: string, base: string) => ns === base || ns.endsWith(`.${base}`);
const isKubeletLabel = (k: string) => KUBELET_LABELS.has(k) || KUBELET_LABEL_NAMESPACES.some((b) => inNs(labelNamespace(k), b));
const isKubernetesLabel = (k: string) => inNs(labelNamespace(k), 'kubernetes.io') || inNs(labelNamespace(k), 'k8s.io');
const isRestrictionLabel = (k: string) => inNs(labelNamespace(k), 'node-restriction.kubernetes.io');

function modifiedLabels(a: Record<string, string> = {}, b: Record<string, string> = {}): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => a[k] !== b[k]).sort();
}

/** Throws the plugin's 403 when a node may not make this write; returns for everyone else. */
export function admitNodeRestriction(r: AdmissionRequest, lookups: RestrictionLookups): void {
  const { isNode, nodeName } = nodeIdentity(r.user);
  if (!isNode) return;
  const deny = (why: string): KubeError => errors.forbidden(r.res.resource, r.res.group, r.name || r.object?.metadata.name || '', why);
  if (!nodeName) throw deny(`could not determine node from user "${r.user.name}"`);
  const gr = `${r.res.group}/${r.res.resource}`;
  switch (gr) {
    case '/pods':
      return admitPod(r, nodeName, lookups, deny);
    case '/nodes':
      return admitNode(r, nodeName, deny);
    case '/persistentvolumeclaims':
      return admitPvc(r, nodeName, deny);
    case '/serviceaccounts':
      return admitServiceAccount(r, nodeName, lookups, deny);
    case 'coordination.k8s.io/leases':
      if (r.namespace !== 'kube-node-lease') throw deny('can only access leases in the "kube-node-lease" system namespace');
      if ((r.operation === 'create' ? r.object?.metadata.name : r.name) !== nodeName)
        throw deny('can only access node lease with the same name as the requesting node');
      return;
    case 'storage.k8s.io/csinodes':
      if ((r.operation === 'create' ? r.object?.metadata.name : r.name) !== nodeName)
        throw deny('can only access CSINode with the same name as the requesting node');
      return;
    default:
      return;
  }
}

function admitPod(r: AdmissionRequest, node: string, lookups: RestrictionLookups, deny: (w: string) => KubeError): void {
  if (r.subresource === 'status') {
    if (r.operation !== 'update') throw deny(`unexpected operation "${r.operation.toUpperCase()}"`);
    const old = r.old!;
    if ((old.spec as { nodeName?: string })?.nodeName !== node)
      throw deny(`node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
    if (modifiedLabels(old.metadata.labels, r.object?.metadata.labels).length) throw deny(`node "${node}" cannot update labels through pod status`);
    return;
  }
  if (r.subresource === 'eviction') {
    const pod = lookups.pod(r.namespace, r.name);
    if (!pod) throw errors.notFound('pods', '', r.name);
    if ((pod.spec as { nodeName?: string })?.nodeName !== node) throw deny(`node ${node} can only evict pods with spec.nodeName set to itself`);
    return;
  }
  if (r.subresource) throw deny(`unexpected pod subresource "${r.subresource}", only 'status' and 'eviction' are allowed`);
  if (r.operation === 'delete') {
    if ((r.old?.spec as { nodeName?: string })?.nodeName !== node) throw deny(`node "${node}" can only delete pods with spec.nodeName set to itself`);
    return;
  }
  if (r.operation !== 'create') throw deny(`unexpected operation "${r.operation.toUpperCase()}", node "${node}" can only create and delete mirror pods`);
  const pod = r.object!;
  if (!pod.metadata.annotations || !(MIRROR in pod.metadata.annotations)) {
    throw deny(`pod does not have "${MIRROR}" annotation, node "${node}" can only create mirror pods`);
  }
  const spec = (pod.spec ?? {}) as Record<string, any>;
  if (spec.nodeName !== node) throw deny(`node "${node}" can only create pods with spec.nodeName set to itself`);
  const owners = pod.metadata.ownerReferences ?? [];
  if (owners.length > 1) throw deny(`node "${node}" can only create pods with a single owner reference set to itself`);
  if (owners.length === 1) {
    const o = owners[0]!;
    if (o.apiVersion !== 'v1' || o.kind !== 'Node' || o.name !== node) throw deny(`node "${node}" can only create pods with an owner reference set to itself`);
    if (!o.controller) throw deny(`node "${node}" can only create pods with a controller owner reference set to itself`);
    if (o.blockOwnerDeletion) throw deny(`node "${node}" must not set blockOwnerDeletion on an owner reference`);
    const n = lookups.node(node);
    if (!n) throw errors.notFound('nodes', '', node);
    if (o.uid !== n.metadata.uid) throw deny(`node ${node} UID mismatch: expected ${o.uid} got ${n.metadata.uid}`);
  }
  if (spec.serviceAccountName) throw deny(`node "${node}" can not create pods that reference a service account`);
  const { secrets, configmaps, pvcs } = refs(pod);
  if (secrets) throw deny(`node "${node}" can not create pods that reference secrets`);
  if (configmaps) throw deny(`node "${node}" can not create pods that reference configmaps`);
  if (pvcs) throw deny(`node "${node}" can not create pods that reference persistentvolumeclaims`);
}

function refs(pod: KubeObject): { secrets: boolean; configmaps: boolean; pvcs: boolean } {
  const spec = (pod.spec ?? {}) as Record<string, any>;
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
  const env = containers.flatMap((c) => [...(c.env ?? []).map((e: any) => e.valueFrom ?? {}), ...(c.envFrom ?? [])]);
  const vols = spec.volumes ?? [];
  const projected = vols.flatMap((v: any) => v.projected?.sources ?? []);
  return {
    secrets:
      (spec.imagePullSecrets ?? []).length > 0 ||
      vols.some((v: any) => v.secret) ||
      projected.some((s: any) => s.secret) ||
      env.some((e: any) => e.secretKeyRef || e.secretRef),
    configmaps: vols.some((v: any) => v.configMap) || projected.some((s: any) => s.configMap) || env.some((e: any) => e.configMapKeyRef || e.configMapRef),
    pvcs: vols.some((v: any) => v.persistentVolumeClaim || v.ephemeral),
  };
}

/** getForbiddenLabels: node-restriction labels, and kubernetes.io/k8s.io labels the kubelet does not own. */
const forbiddenLabel = (k: string) => isRestrictionLabel(k) || (isKubernetesLabel(k) && !isKubeletLabel(k));

function admitNode(r: AdmissionRequest, node: string, deny: (w: string) => KubeError): void {
  if (r.operation === 'create') {
    const n = r.object!;
    if ((n.spec as { configSource?: unknown })?.configSource) throw deny(`node "${node}" is not allowed to create pods with a non-nil configSource`);
    // The same rule as an update's (getForbiddenLabels): since 1.19 a node may not register with kubernetes.io or
    // k8s.io labels outside the kubelet's own set either (plugin/pkg/admission/noderestriction/admission.go, admitNode;
    // its test "forbid create of my node with forbidden labels" lists other.k8s.io/foo and other.kubernetes.io/foo).
    const forbidden = modifiedLabels(n.metadata.labels, {}).filter(forbiddenLabel);
    if (forbidden.length) throw deny(`node "${node}" is not allowed to set the following labels: ${forbidden.join(', ')}`);
  }
  const requested = r.operation === 'create' ? r.object!.metadata.name : r.name;
  if (requested !== node) throw deny(`node "${node}" is not allowed to modify node "${requested}"`);
  if (r.operation === 'update' && r.old && r.object) {
    const spec = (r.object.spec ?? {}) as Record<string, unknown>;
    const oldSpec = (r.old.spec ?? {}) as Record<string, unknown>;
    if (spec.configSource && JSON.stringify(spec.configSource) !== JSON.stringify(oldSpec.configSource)) {
      throw deny(`node "${node}" is not allowed to update configSource to a new non-nil configSource`);
    }
    if (JSON.stringify(spec.taints ?? null) !== JSON.stringify(oldSpec.taints ?? null)) throw deny(`node "${node}" is not allowed to modify taints`);
    const forbidden = modifiedLabels(r.object.metadata.labels, r.old.metadata.labels).filter(forbiddenLabel);
    if (forbidden.length) throw deny(`is not allowed to modify labels: ${forbidden.join(', ')}`);
  }
}

function admitPvc(r: AdmissionRequest, node: string, deny: (w: string) => KubeError): void {
  if (r.subresource !== 'status') throw deny('may only update PVC status');
  if (r.operation !== 'update') throw deny(`unexpected operation "${r.operation.toUpperCase()}"`);
  const strip = (o: KubeObject | undefined) => {
    const c = structuredClone(o ?? { metadata: { name: '' } }) as KubeObject;
    delete c.metadata.resourceVersion;
    delete c.metadata.managedFields;
    if (c.status) {
      delete c.status.capacity;
      delete c.status.conditions;
    }
    return JSON.stringify(c);
  };
  if (strip(r.old) !== strip(r.object)) throw deny(`node "${node}" is not allowed to update fields other than status.capacity and status.conditions`);
}

function admitServiceAccount(r: AdmissionRequest, node: string, lookups: RestrictionLookups, deny: (w: string) => KubeError): void {
  if (r.operation !== 'create' || r.subresource !== 'token') return;
  const ref = (r.object?.spec as { boundObjectRef?: { apiVersion?: string; kind?: string; name?: string; uid?: string } } | undefined)?.boundObjectRef;
  if (!ref || ref.apiVersion !== 'v1' || ref.kind !== 'Pod' || !ref.name) throw deny('node requested token not bound to a pod');
  if (!ref.uid) throw deny('node requested token with a pod binding without a uid');
  const pod = lookups.pod(r.namespace, ref.name);
  if (!pod) throw errors.notFound('pods', '', ref.name);
  if (ref.uid !== pod.metadata.uid) {
    throw deny(
      `the UID in the bound object reference (${ref.uid}) does not match the UID in record (${pod.metadata.uid}). The object might have been deleted and then recreated`,
    );
  }
  if ((pod.spec as { nodeName?: string })?.nodeName !== node) throw deny('node requested token bound to a pod scheduled on a different node');
}
