// The Node authorizer (plugin/pkg/auth/authorizer/node/node_authorizer.go, graph_populator.go) for identities
// system:node:<name> in group system:nodes (pkg/auth/nodeidentifier). It subdivides access to secrets, configmaps,
// PVCs, PVs, volume attachments and service-account tokens (only objects reachable from pods bound to the node),
// leases (only its own, in kube-node-lease), CSINodes (only its own) and, with AuthorizeNodeWithSelectors (on since
// 1.32), Nodes (only its own) and Pods (get of bound pods, list/watch with spec.nodeName=<self>). Everything else is
// checked against NodeRules(). Reasons are the real ones. The graph is computed from the store on each request
// instead of being kept up to date by informers: same answers, no lag.
import { NODE_RULES } from './bootstrap-policy.js';
import { ruleAllows } from './rbac.js';
import { exactField } from './request-info.js';
import type { AuthzResult, KubeObject, RequestAttributes, UserInfo } from './types.js';

export interface NodeGraphLookups {
  pods(): KubeObject[];
  pvc(ns: string, name: string): KubeObject | undefined;
  volumeAttachments(): KubeObject[];
  nodeExists(name: string): boolean;
}

/** pkg/auth/nodeidentifier: system:node:<name> in system:nodes. */
export function nodeIdentity(user: UserInfo): { isNode: boolean; nodeName: string } {
  if (!user.name.startsWith('system:node:') || !user.groups.includes('system:nodes')) return { isNode: false, nodeName: '' };
  return { isNode: true, nodeName: user.name.slice('system:node:'.length) };
}

type Vertex = 'secret' | 'configmap' | 'pvc' | 'pv' | 'serviceaccount' | 'pod' | 'volumeattachment' | 'resourceclaim';

const noOpinion = (reason = ''): AuthzResult => ({ decision: 'no-opinion', reason, by: 'Node' });
const allow: AuthzResult = { decision: 'allow', reason: '', by: 'Node' };

/** Names a pod references, per kind (graph_populator AddPod: podutil.VisitPodSecretNames / VisitPodConfigmapNames). */
export function podReferences(pod: KubeObject): { secrets: Set<string>; configmaps: Set<string>; pvcs: Set<string>; serviceAccount?: string } {
  const spec = (pod.spec ?? {}) as Record<string, any>;
  const secrets = new Set<string>();
  const configmaps = new Set<string>();
  const pvcs = new Set<string>();
  for (const s of spec.imagePullSecrets ?? []) if (s?.name) secrets.add(s.name);
  for (const v of spec.volumes ?? []) {
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
    if (v.configMap?.name) configmaps.add(v.configMap.name);
    if (v.persistentVolumeClaim?.claimName) pvcs.add(v.persistentVolumeClaim.claimName);
    if (v.ephemeral) pvcs.add(`${pod.metadata.name}-${v.name}`);
    for (const src of v.projected?.sources ?? []) {
      if (src.secret?.name) secrets.add(src.secret.name);
      if (src.configMap?.name) configmaps.add(src.configMap.name);
    }
    for (const key of ['azureFile', 'cephfs', 'cinder', 'flexVolume', 'iscsi', 'rbd', 'scaleIO', 'storageos', 'csi']) {
      const ref = v[key]?.secretRef?.name ?? v[key]?.nodePublishSecretRef?.name ?? v[key]?.secretName;
      if (ref) secrets.add(ref);
    }
  }
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])]) {
    for (const e of c.envFrom ?? []) {
      if (e.secretRef?.name) secrets.add(e.secretRef.name);
      if (e.configMapRef?.name) configmaps.add(e.configMapRef.name);
    }
    for (const e of c.env ?? []) {
      if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
      if (e.valueFrom?.configMapKeyRef?.name) configmaps.add(e.valueFrom.configMapKeyRef.name);
    }
  }
  return { secrets, configmaps, pvcs, serviceAccount: spec.serviceAccountName || undefined };
}

export class NodeAuthorizer {
  constructor(
    private readonly graph: NodeGraphLookups,
    private readonly withSelectors: () => boolean,
  ) {}

  authorize(attrs: RequestAttributes): AuthzResult {
    const { isNode, nodeName } = nodeIdentity(attrs.user);
    if (!isNode) return noOpinion();
    if (!nodeName) return noOpinion(`unknown node for user "${attrs.user.name}"`);
    if (attrs.isResourceRequest) {
      const gr = `${attrs.apiGroup}/${attrs.resource}`;
      switch (gr) {
        case '/secrets':
          return this.readNamespaced(nodeName, 'secret', attrs);
        case '/configmaps':
          return this.readNamespaced(nodeName, 'configmap', attrs);
        case '/persistentvolumeclaims':
          return attrs.subresource === 'status' ? this.statusUpdate(nodeName, 'pvc', attrs) : this.get(nodeName, 'pvc', attrs);
        case '/persistentvolumes':
          return this.get(nodeName, 'pv', attrs);
        case 'resource.k8s.io/resourceclaims':
          return this.get(nodeName, 'resourceclaim', attrs);
        case 'storage.k8s.io/volumeattachments':
          return this.get(nodeName, 'volumeattachment', attrs);
        case '/serviceaccounts':
          return this.createToken(nodeName, attrs);
        case 'coordination.k8s.io/leases':
          return this.lease(nodeName, attrs);
        case 'storage.k8s.io/csinodes':
          return this.csiNode(nodeName, attrs);
        case '/nodes':
          if (this.withSelectors()) return this.node(nodeName, attrs);
          break;
        case '/pods':
          if (this.withSelectors()) return this.pod(nodeName, attrs);
          break;
      }
    }
    // Access to other resources is not subdivided: the statically defined node rules
    return NODE_RULES.some((r) => ruleAllows(attrs, r)) ? allow : noOpinion();
  }

  private statusUpdate(node: string, t: Vertex, a: RequestAttributes): AuthzResult {
    if (a.verb !== 'update' && a.verb !== 'patch') return noOpinion('can only get/update/patch this type');
    if (a.subresource !== 'status') return noOpinion('can only update status subresource');
    return this.related(node, t, a);
  }

  private get(node: string, t: Vertex, a: RequestAttributes): AuthzResult {
    if (a.verb !== 'get') return noOpinion('can only get individual resources of this type');
    if (a.subresource) return noOpinion('cannot get subresource');
    return this.related(node, t, a);
  }

  private readNamespaced(node: string, t: Vertex, a: RequestAttributes): AuthzResult {
    if (!['get', 'list', 'watch'].includes(a.verb)) return noOpinion('can only read resources of this type');
    if (a.subresource) return noOpinion('cannot read subresource');
    if (!a.namespace) return noOpinion('can only read namespaced object of this type');
    return this.related(node, t, a);
  }

  private related(node: string, t: Vertex, a: RequestAttributes): AuthzResult {
    if (!a.name) return noOpinion('No Object name found');
    return this.hasPathFrom(node, t, a.namespace, a.name) ? allow : noOpinion(`no relationship found between node '${node}' and this object`);
  }

  private createToken(node: string, a: RequestAttributes): AuthzResult {
    if (a.verb !== 'create' || !a.name) return noOpinion('can only create tokens for individual service accounts');
    if (a.subresource !== 'token') return noOpinion('can only create token subresource of serviceaccount');
    return this.hasPathFrom(node, 'serviceaccount', a.namespace, a.name) ? allow : noOpinion(`no relationship found between node '${node}' and this object`);
  }

  private lease(node: string, a: RequestAttributes): AuthzResult {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) return noOpinion('can only get, create, update, patch, or delete a node lease');
    if (a.namespace !== 'kube-node-lease') return noOpinion('can only access leases in the "kube-node-lease" system namespace');
    if (a.verb !== 'create' && a.name !== node) return noOpinion('can only access node lease with the same name as the requesting node');
    return allow;
  }

  private csiNode(node: string, a: RequestAttributes): AuthzResult {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) return noOpinion('can only get, create, update, patch, or delete a CSINode');
    if (a.subresource) return noOpinion('cannot authorize CSINode subresources');
    if (a.verb !== 'create' && a.name !== node) return noOpinion('can only access CSINode with the same name as the requesting node');
    return allow;
  }

  private node(node: string, a: RequestAttributes): AuthzResult {
    if (a.subresource === '') {
      if (['create', 'update', 'patch'].includes(a.verb)) return allow; // NodeRestriction limits it to its own Node
      if (['get', 'list', 'watch'].includes(a.verb)) {
        if (a.name === node) return allow;
        return noOpinion(
          a.name === '' ? `node '${node}' cannot read all nodes, only its own Node object` : `node '${node}' cannot read '${a.name}', only its own Node object`,
        );
      }
    } else if (a.subresource === 'status' && (a.verb === 'update' || a.verb === 'patch')) return allow;
    return noOpinion();
  }

  private pod(node: string, a: RequestAttributes): AuthzResult {
    if (a.subresource === '') {
      if (a.verb === 'get') return this.get(node, 'pod', a);
      if (a.verb === 'list' || a.verb === 'watch') {
        if (exactField(a.fieldSelector, 'spec.nodeName') === node) return allow;
        if (a.name) return this.related(node, 'pod', a);
        return noOpinion('can only list/watch pods with spec.nodeName field selector');
      }
      if (a.verb === 'create' || a.verb === 'delete') return allow; // mirror pods; NodeRestriction checks
    } else if (a.subresource === 'status' && (a.verb === 'update' || a.verb === 'patch')) return allow;
    else if (a.subresource === 'eviction' && a.verb === 'create') return allow;
    return noOpinion();
  }

  /** graph: node <- pod <- {secret, configmap, pvc <- pv, serviceaccount}; node <- volumeattachment. */
  private hasPathFrom(node: string, t: Vertex, ns: string, name: string): boolean {
    const bound = this.graph.pods().filter((p) => (p.spec as { nodeName?: string } | undefined)?.nodeName === node);
    if (!bound.length && !this.graph.nodeExists(node)) return false; // unknown node
    switch (t) {
      case 'pod':
        return bound.some((p) => p.metadata.namespace === ns && p.metadata.name === name);
      case 'resourceclaim':
        return false; // DRA is not served by the fake
      case 'volumeattachment':
        return this.graph.volumeAttachments().some((v) => v.metadata.name === name && (v.spec as { nodeName?: string })?.nodeName === node);
      case 'pv':
        return bound.some((p) =>
          [...podReferences(p).pvcs].some((c) => (this.graph.pvc(p.metadata.namespace!, c)?.spec as { volumeName?: string } | undefined)?.volumeName === name),
        );
      default: {
        const field = t === 'secret' ? 'secrets' : t === 'configmap' ? 'configmaps' : t === 'pvc' ? 'pvcs' : undefined;
        return bound.some((p) => p.metadata.namespace === ns && (field ? podReferences(p)[field].has(name) : podReferences(p).serviceAccount === name));
      }
    }
  }
}
