// The FAKE API server's admission chain, in the order of the default plugins that matter here
// (pkg/kubeapiserver/options/plugins.go): NamespaceLifecycle (no content in missing or terminating namespaces,
// default/kube-system/kube-public cannot be deleted), ServiceAccount (pods get serviceAccountName "default", which must
// exist, and the kube-api-access-<x> projected token volume), NodeRestriction (./node-restriction.ts),
// CertificateApproval / CertificateSigning / CertificateSubjectRestriction (plugin/pkg/admission/certificates), and
// the RBAC escalation check of role and binding writes (pkg/registry/rbac/escalation_check.go: allowed when the user
// may `escalate`/`bind` the role, or already holds every rule it grants).
import { randomBytes } from 'node:crypto';
import type { ApiResource } from './api-resources.js';
import type { PolicyRule } from './bootstrap-policy.js';
import { parseCsr } from './csr.js';
import { admitNodeRestriction, type AdmissionRequest } from './node-restriction.js';
import type { RbacAuthorizer } from './rbac.js';
import { errors } from './status.js';
import type { ObjectStore } from './store.js';
import type { AuthzResult, KubeObject, RequestAttributes } from './types.js';

export interface AdmissionDeps {
  store: ObjectStore;
  res(resource: string): ApiResource;
  authorize(attrs: RequestAttributes): AuthzResult;
  rbac: RbacAuthorizer;
}

const UNDELETABLE = new Set(['default', 'kube-system', 'kube-public']);
const MIRROR = 'kubernetes.io/config.mirror';
const SA_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

export function admit(r: AdmissionRequest, d: AdmissionDeps): void {
  namespaceLifecycle(r, d);
  if (r.res.resource === 'pods' && r.operation === 'create' && !r.subresource && r.object) serviceAccount(r, d);
  admitNodeRestriction(r, {
    pod: (ns, name) => d.store.get(d.res('pods'), ns, name),
    node: (name) => d.store.get(d.res('nodes'), '', name),
  });
  if (r.res.group === 'rbac.authorization.k8s.io' && (r.operation === 'create' || r.operation === 'update')) escalation(r, d);
  if (r.res.resource === 'certificatesigningrequests') certificates(r, d);
}

function namespaceLifecycle(r: AdmissionRequest, d: AdmissionDeps): void {
  if (r.res.resource === 'namespaces' && r.operation === 'delete' && UNDELETABLE.has(r.name)) {
    throw errors.forbidden('namespaces', '', r.name, 'this namespace may not be deleted');
  }
  if (!r.res.namespaced || r.operation !== 'create' || r.subresource) return;
  const ns = d.store.get(d.res('namespaces'), '', r.namespace);
  if (!ns) throw errors.notFound('namespaces', '', r.namespace);
  if ((ns.status as { phase?: string } | undefined)?.phase === 'Terminating') {
    throw errors.forbidden(
      r.res.resource,
      r.res.group,
      r.object?.metadata.name ?? '',
      `unable to create new content in namespace ${r.namespace} because it is being terminated`,
    );
  }
}

function serviceAccount(r: AdmissionRequest, d: AdmissionDeps): void {
  const pod = r.object!;
  if (pod.metadata.annotations?.[MIRROR] !== undefined) return; // mirror pods are left alone
  const spec = (pod.spec ??= {}) as Record<string, any>;
  spec.serviceAccountName ||= spec.serviceAccount || 'default';
  spec.serviceAccount = spec.serviceAccountName;
  const sa = d.store.get(d.res('serviceaccounts'), r.namespace, spec.serviceAccountName);
  if (!sa) {
    throw errors.forbidden(
      'pods',
      '',
      pod.metadata.name,
      `error looking up service account ${r.namespace}/${spec.serviceAccountName}: serviceaccount "${spec.serviceAccountName}" not found`,
    );
  }
  const automount = spec.automountServiceAccountToken ?? (sa as { automountServiceAccountToken?: boolean }).automountServiceAccountToken ?? true;
  if (!automount) return;
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])] as Record<string, any>[];
  if (containers.some((c) => (c.volumeMounts ?? []).some((m: { mountPath: string }) => m.mountPath === SA_MOUNT))) return;
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const name = `kube-api-access-${[...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('')}`;
  (spec.volumes ??= []).push({
    name,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  });
  for (const c of containers) (c.volumeMounts ??= []).push({ name, readOnly: true, mountPath: SA_MOUNT });
}

function escalation(r: AdmissionRequest, d: AdmissionDeps): void {
  const o = r.object as KubeObject & { rules?: PolicyRule[]; roleRef?: { kind: string; name: string } };
  const kind = r.res.resource;
  const ns = r.res.namespaced ? r.namespace : '';
  const may = (verb: string, resource: string, name: string) =>
    d.authorize({
      user: r.user,
      verb,
      isResourceRequest: true,
      path: '',
      apiGroup: 'rbac.authorization.k8s.io',
      apiVersion: 'v1',
      resource,
      subresource: '',
      namespace: ns,
      name,
    }).decision === 'allow';
  const refuse = (rules: PolicyRule[]) =>
    errors.forbidden(
      kind,
      'rbac.authorization.k8s.io',
      o.metadata.name,
      `user "${r.user.name}" (groups=${JSON.stringify(r.user.groups)}) is attempting to grant RBAC permissions not currently held:\n${rules.map(ruleText).join('\n')}`,
    );
  if (kind === 'clusterroles' || kind === 'roles') {
    if (may('escalate', kind, o.metadata.name)) return;
    const missing = d.rbac.notHeld(r.user, ns, o.rules ?? []);
    if (missing.length) throw refuse(missing);
    return;
  }
  const ref = o.roleRef;
  if (!ref) return;
  const refRes = ref.kind === 'ClusterRole' ? 'clusterroles' : 'roles';
  if (may('bind', refRes, ref.name)) return;
  const rules = ref.kind === 'ClusterRole' ? d.rbac.clusterRoleRules(ref.name) : (d.store.get(d.res('roles'), ns, ref.name)?.rules as PolicyRule[] | undefined);
  if (!rules) throw errors.notFound(refRes, 'rbac.authorization.k8s.io', ref.name);
  const missing = d.rbac.notHeld(r.user, ns, rules);
  if (missing.length) throw refuse(missing);
}

function ruleText(r: PolicyRule): string {
  return r.nonResourceURLs?.length
    ? `{NonResourceURLs:[${r.nonResourceURLs.join(' ')}], Verbs:[${r.verbs.join(' ')}]}`
    : `{APIGroups:[${(r.apiGroups ?? []).map((g) => `"${g}"`).join(' ')}], Resources:[${(r.resources ?? []).map((x) => `"${x}"`).join(' ')}]${r.resourceNames?.length ? `, ResourceNames:[${r.resourceNames.map((x) => `"${x}"`).join(' ')}]` : ''}, Verbs:[${r.verbs.map((x) => `"${x}"`).join(' ')}]}`;
}

function certificates(r: AdmissionRequest, d: AdmissionDeps): void {
  const spec = ((r.object ?? r.old)?.spec ?? {}) as { signerName?: string; request?: string };
  const signer = spec.signerName ?? '';
  const may = (verb: string) =>
    [signer, `${signer.split('/')[0]}/*`].some(
      (name) =>
        d.authorize({
          user: r.user,
          verb,
          isResourceRequest: true,
          path: '',
          apiGroup: 'certificates.k8s.io',
          apiVersion: 'v1',
          resource: 'signers',
          subresource: '',
          namespace: '',
          name,
        }).decision === 'allow',
    );
  const deny = (why: string) => errors.forbidden('certificatesigningrequests', 'certificates.k8s.io', r.name || r.object?.metadata.name || '', why);
  if (r.operation === 'update' && r.subresource === 'approval') {
    const before = JSON.stringify(((r.old?.status ?? {}) as { conditions?: unknown }).conditions ?? []);
    const after = JSON.stringify(((r.object?.status ?? {}) as { conditions?: unknown }).conditions ?? []);
    if (before !== after && !may('approve')) throw deny(`user not permitted to approve requests with signerName "${signer}"`);
  }
  if (r.operation === 'update' && r.subresource === 'status') {
    const before = ((r.old?.status ?? {}) as { certificate?: string }).certificate;
    const after = ((r.object?.status ?? {}) as { certificate?: string }).certificate;
    if (before !== after && !may('sign')) throw deny(`user not permitted to sign requests with signerName "${signer}"`);
  }
  if (r.operation === 'create' && signer === 'kubernetes.io/kube-apiserver-client' && spec.request) {
    let orgs: string[] = [];
    try {
      orgs = parseCsr(Buffer.from(spec.request, 'base64').toString('utf8')).organizations;
    } catch {
      /* validation reports it */
    }
    if (orgs.includes('system:masters')) throw deny('use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed');
  }
}
