// The API resources the FAKE Kubernetes API serves, with the group/version/kind/scope the real API server gives
// them (`kubectl api-resources`), and the discovery documents built from them (/api, /apis, /api/v1, /apis/g/v).

export interface ApiResource {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  subresources: string[];
  /** create-only virtual resources (reviews): no storage, no get/list. */
  createOnly?: boolean;
  shortNames?: string[];
}

const r = (
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
  subresources: string[] = [],
  extra: Partial<ApiResource> = {},
): ApiResource => ({ group, version, resource, kind, namespaced, subresources, ...extra });

export const API_RESOURCES: ApiResource[] = [
  r('', 'v1', 'namespaces', 'Namespace', false, ['status'], { shortNames: ['ns'] }),
  r('', 'v1', 'nodes', 'Node', false, ['status', 'proxy'], { shortNames: ['no'] }),
  r('', 'v1', 'pods', 'Pod', true, ['status', 'eviction', 'binding', 'log', 'exec'], { shortNames: ['po'] }),
  r('', 'v1', 'services', 'Service', true, ['status'], { shortNames: ['svc'] }),
  r('', 'v1', 'endpoints', 'Endpoints', true, [], { shortNames: ['ep'] }),
  r('', 'v1', 'secrets', 'Secret', true),
  r('', 'v1', 'configmaps', 'ConfigMap', true, [], { shortNames: ['cm'] }),
  r('', 'v1', 'serviceaccounts', 'ServiceAccount', true, ['token'], { shortNames: ['sa'] }),
  r('', 'v1', 'events', 'Event', true, [], { shortNames: ['ev'] }),
  r('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', true, ['status'], { shortNames: ['pvc'] }),
  r('', 'v1', 'persistentvolumes', 'PersistentVolume', false, ['status'], { shortNames: ['pv'] }),
  r('', 'v1', 'replicationcontrollers', 'ReplicationController', true, ['status', 'scale'], { shortNames: ['rc'] }),
  r('apps', 'v1', 'daemonsets', 'DaemonSet', true, ['status'], { shortNames: ['ds'] }),
  r('apps', 'v1', 'deployments', 'Deployment', true, ['status', 'scale'], { shortNames: ['deploy'] }),
  r('apps', 'v1', 'replicasets', 'ReplicaSet', true, ['status', 'scale'], { shortNames: ['rs'] }),
  r('apps', 'v1', 'statefulsets', 'StatefulSet', true, ['status', 'scale'], { shortNames: ['sts'] }),
  r('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
  r('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true),
  // events.k8s.io/v1: what client-go's tools/events recorder writes (kube-proxy's "Starting" event); the real API
  // server stores both Event APIs in one place, the fake keeps them apart (nothing here reads one as the other).
  r('events.k8s.io', 'v1', 'events', 'Event', true, [], { shortNames: ['ev'] }),
  // networking.k8s.io/v1 ServiceCIDR (GA in 1.33, MultiCIDRServiceAllocator): kube-proxy 1.33+ watches them
  // (cmd/kube-proxy/app/server.go); the API server keeps a default one named "kubernetes" for its service range.
  r('networking.k8s.io', 'v1', 'servicecidrs', 'ServiceCIDR', false, ['status']),
  r('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', true, ['status'], { shortNames: ['pdb'] }),
  r('storage.k8s.io', 'v1', 'csinodes', 'CSINode', false),
  r('storage.k8s.io', 'v1', 'csidrivers', 'CSIDriver', false),
  r('storage.k8s.io', 'v1', 'volumeattachments', 'VolumeAttachment', false, ['status']),
  r('node.k8s.io', 'v1', 'runtimeclasses', 'RuntimeClass', false),
  r('certificates.k8s.io', 'v1', 'certificatesigningrequests', 'CertificateSigningRequest', false, ['approval', 'status'], { shortNames: ['csr'] }),
  r('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  r('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
  r('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true),
  r('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true),
  r('authentication.k8s.io', 'v1', 'tokenreviews', 'TokenReview', false, [], { createOnly: true }),
  r('authentication.k8s.io', 'v1', 'selfsubjectreviews', 'SelfSubjectReview', false, [], { createOnly: true }),
  r('authorization.k8s.io', 'v1', 'subjectaccessreviews', 'SubjectAccessReview', false, [], { createOnly: true }),
  r('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, [], { createOnly: true }),
  r('authorization.k8s.io', 'v1', 'localsubjectaccessreviews', 'LocalSubjectAccessReview', true, [], { createOnly: true }),
];

export function findResource(group: string, version: string, resource: string): ApiResource | undefined {
  return API_RESOURCES.find((x) => x.group === group && x.version === version && x.resource === resource);
}

/** The resource of a kind (first match), e.g. for ownerReferences. */
export function resourceOfKind(kind: string, group?: string): ApiResource | undefined {
  return API_RESOURCES.find((x) => x.kind === kind && (group === undefined || x.group === group));
}

export function apiVersionOf(res: Pick<ApiResource, 'group' | 'version'>): string {
  return res.group ? `${res.group}/${res.version}` : res.version;
}

const VERBS_STORED = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function discovery(path: string): unknown | undefined {
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '' }] };
  if (path === '/apis') {
    const groups = [...new Set(API_RESOURCES.filter((x) => x.group).map((x) => `${x.group}/${x.version}`))];
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: groups.map((gv) => {
        const [name, version] = gv.split('/') as [string, string];
        return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } };
      }),
    };
  }
  const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
  if (!m) return undefined;
  const group = m[2] ?? '';
  const version = m[1] ?? m[3]!;
  const list = API_RESOURCES.filter((x) => x.group === group && x.version === version);
  if (!list.length) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: list.flatMap((x) => [
      {
        name: x.resource,
        singularName: x.kind.toLowerCase(),
        namespaced: x.namespaced,
        kind: x.kind,
        verbs: x.createOnly ? ['create'] : VERBS_STORED,
        ...(x.shortNames ? { shortNames: x.shortNames } : {}),
      },
      ...x.subresources.map((s) => ({
        name: `${x.resource}/${s}`,
        singularName: '',
        namespaced: x.namespaced,
        kind: s === 'eviction' ? 'Eviction' : s === 'token' ? 'TokenRequest' : s === 'binding' ? 'Binding' : s === 'scale' ? 'Scale' : x.kind,
        verbs:
          s === 'eviction' || s === 'token' || s === 'binding'
            ? ['create']
            : s === 'log' || s === 'proxy' || s === 'exec'
              ? ['get']
              : ['get', 'patch', 'update'],
      })),
    ]),
  };
}
