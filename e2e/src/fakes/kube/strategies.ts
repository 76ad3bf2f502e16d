// Per-resource behaviour of the FAKE API server's registry (pkg/registry/*/strategy.go and pkg/apis/*/validation):
// defaults on create, what an update may change, validation errors (422 Invalid with the real field paths and
// messages for what callers hit), graceful deletion of pods and which deletes return the object.
import type { ApiResource } from './api-resources.js';
import { parseCsr } from './csr.js';
import type { KubeObject, UserInfo } from './types.js';

export type Cause = { field: string; type: string; detail: string; value?: unknown };

export interface CreateContext {
  user: UserInfo;
}

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
/** Resources whose names are path segments (RBAC: `system:node`), DNS-1123 labels, or subdomains (the rest). */
const PATH_SEGMENT = new Set(['clusterroles', 'clusterrolebindings', 'roles', 'rolebindings', 'certificatesigningrequests']);
const DNS_LABEL = new Set(['namespaces', 'services']);

/** Resources that refuse an update without metadata.resourceVersion (AllowUnconditionalUpdate false). */
export const REQUIRES_RESOURCE_VERSION = new Set(['leases']);

export function validateName(res: ApiResource, name: string): Cause[] {
  if (!name) return [{ field: 'metadata.name', type: 'Required value', detail: 'name or generateName is required' }];
  if (PATH_SEGMENT.has(res.resource)) {
    if (name === '.' || name === '..' || /[/%]/.test(name))
      return [{ field: 'metadata.name', type: 'Invalid value', value: name, detail: "may not contain '/' or '%'" }];
    return [];
  }
  if (DNS_LABEL.has(res.resource)) {
    return LABEL.test(name) && name.length <= 63 ? [] : [{ field: 'metadata.name', type: 'Invalid value', value: name, detail: LABEL_MSG }];
  }
  return SUBDOMAIN.test(name) && name.length <= 253 ? [] : [{ field: 'metadata.name', type: 'Invalid value', value: name, detail: SUBDOMAIN_MSG }];
}

function isCidr(s: unknown): boolean {
  if (typeof s !== 'string') return false;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
  if (m) return m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
  return /^[0-9a-f:]+\/\d{1,3}$/i.test(s);
}

/** Defaults the API server (and the admission chain's ServiceAccount/DefaultTolerations plugins) sets on create. */
export function prepareForCreate(res: ApiResource, o: KubeObject, ctx: CreateContext): void {
  switch (res.resource) {
    case 'pods': {
      const spec = (o.spec ??= {}) as Record<string, any>;
      spec.restartPolicy ??= 'Always';
      spec.terminationGracePeriodSeconds ??= 30;
      spec.dnsPolicy ??= 'ClusterFirst';
      spec.schedulerName ??= 'default-scheduler';
      spec.enableServiceLinks ??= true;
      spec.priority ??= 0;
      for (const c of spec.containers ?? []) {
        c.imagePullPolicy ??= /:latest$|^[^:]+$/.test(String(c.image ?? '')) ? 'Always' : 'IfNotPresent';
        c.terminationMessagePath ??= '/dev/termination-log';
        c.terminationMessagePolicy ??= 'File';
      }
      // DefaultTolerationSeconds admission plugin
      const tol = (spec.tolerations ??= []) as Record<string, unknown>[];
      for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
        if (!tol.some((t) => t.key === key)) tol.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
      }
      o.status = { phase: 'Pending', qosClass: qosClass(spec) };
      break;
    }
    case 'namespaces':
      o.spec = { finalizers: ['kubernetes'], ...(o.spec ?? {}) };
      o.status = { phase: 'Active' };
      o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata.name };
      break;
    case 'secrets':
      stringDataToData(o);
      o.type ??= 'Opaque';
      break;
    case 'certificatesigningrequests': {
      // The requester's identity, whatever the body said (certificates strategy PrepareForCreate).
      const spec = (o.spec ??= {}) as Record<string, unknown>;
      spec.username = ctx.user.name;
      spec.uid = ctx.user.uid ?? '';
      spec.groups = ctx.user.groups;
      spec.extra = ctx.user.extra ?? {};
      o.status = {};
      break;
    }
    case 'poddisruptionbudgets':
      o.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, observedGeneration: 0 };
      break;
    case 'services': {
      const spec = (o.spec ??= {}) as Record<string, unknown>;
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      break;
    }
  }
}

/** The Kubernetes QoS class of a pod spec (pkg/apis/core/helper/qos). */
function qosClass(spec: Record<string, any>): string {
  const cs = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  const any = cs.some((c) => Object.keys(c.resources?.requests ?? {}).length || Object.keys(c.resources?.limits ?? {}).length);
  if (!any) return 'BestEffort';
  const guaranteed = cs.every((c) =>
    ['cpu', 'memory'].every((r) => c.resources?.limits?.[r] && (c.resources?.requests?.[r] ?? c.resources.limits[r]) === c.resources.limits[r]),
  );
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export function stringDataToData(o: KubeObject): void {
  const sd = o.stringData as Record<string, string> | undefined;
  if (sd) {
    const data = { ...((o.data as Record<string, string> | undefined) ?? {}) };
    for (const [k, v] of Object.entries(sd)) data[k] = Buffer.from(String(v)).toString('base64');
    o.data = data;
    delete o.stringData;
  }
}

/** Field errors of an object about to be stored (create when old is undefined). */
export function validate(res: ApiResource, o: KubeObject, old?: KubeObject): Cause[] {
  const causes: Cause[] = [];
  const spec = (o.spec ?? {}) as Record<string, any>;
  switch (res.resource) {
    case 'pods': {
      if (!Array.isArray(spec.containers) || !spec.containers.length) causes.push({ field: 'spec.containers', type: 'Required value', detail: '' });
      (spec.containers ?? []).forEach((c: Record<string, unknown>, i: number) => {
        if (!c.name) causes.push({ field: `spec.containers[${i}].name`, type: 'Required value', detail: '' });
        if (!c.image) causes.push({ field: `spec.containers[${i}].image`, type: 'Required value', detail: '' });
      });
      if (old) {
        const strip = (s: Record<string, any>) =>
          JSON.stringify({
            ...s,
            containers: (s.containers ?? []).map((c: any) => ({ ...c, image: '' })),
            initContainers: (s.initContainers ?? []).map((c: any) => ({ ...c, image: '' })),
            activeDeadlineSeconds: 0,
            tolerations: [],
            terminationGracePeriodSeconds: 0,
            schedulingGates: [],
          });
        if (strip(spec) !== strip((old.spec ?? {}) as Record<string, any>)) {
          causes.push({
            field: 'spec',
            type: 'Forbidden',
            detail:
              'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
          });
        }
      }
      break;
    }
    case 'nodes': {
      if (spec.podCIDR !== undefined && spec.podCIDR !== '' && !isCidr(spec.podCIDR)) {
        causes.push({ field: 'spec.podCIDRs[0]', type: 'Invalid value', value: spec.podCIDR, detail: 'must be a valid CIDR' });
      }
      const oldCidr = (old?.spec as { podCIDR?: string } | undefined)?.podCIDR;
      if (old && oldCidr && spec.podCIDR !== oldCidr) {
        causes.push({ field: 'spec.podCIDRs', type: 'Forbidden', detail: 'node updates may not change podCIDR except from "" to valid' });
      }
      break;
    }
    case 'leases':
      if (spec.leaseDurationSeconds !== undefined && !(spec.leaseDurationSeconds > 0)) {
        causes.push({ field: 'spec.leaseDurationSeconds', type: 'Invalid value', value: spec.leaseDurationSeconds, detail: 'must be greater than 0' });
      }
      break;
    case 'secrets':
      if (old && old.type !== o.type) causes.push({ field: 'type', type: 'Invalid value', value: o.type, detail: 'field is immutable' });
      break;
    case 'poddisruptionbudgets':
      if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
        causes.push({ field: 'spec', type: 'Invalid value', value: spec, detail: 'minAvailable and maxUnavailable cannot be both set' });
      }
      break;
    case 'clusterrolebindings':
    case 'rolebindings':
      if (!(o.roleRef as { name?: string } | undefined)?.name) causes.push({ field: 'roleRef.name', type: 'Required value', detail: '' });
      if (old && JSON.stringify(old.roleRef) !== JSON.stringify(o.roleRef))
        causes.push({ field: 'roleRef', type: 'Invalid value', value: o.roleRef, detail: 'cannot change roleRef' });
      break;
    case 'certificatesigningrequests':
      if (!old) causes.push(...validateCsrCreate(spec));
      else if (JSON.stringify(old.spec) !== JSON.stringify(o.spec))
        causes.push({ field: 'spec', type: 'Forbidden', detail: 'updates to certificateSigningRequest spec are forbidden' });
      break;
  }
  return causes;
}

function validateCsrCreate(spec: Record<string, any>): Cause[] {
  const causes: Cause[] = [];
  if (!spec.signerName) causes.push({ field: 'spec.signerName', type: 'Required value', detail: '' });
  if (!Array.isArray(spec.usages) || !spec.usages.length) causes.push({ field: 'spec.usages', type: 'Required value', detail: '' });
  if (spec.expirationSeconds !== undefined && spec.expirationSeconds < 600) {
    causes.push({
      field: 'spec.expirationSeconds',
      type: 'Invalid value',
      value: spec.expirationSeconds,
      detail: 'may not specify a duration less than 600 seconds (10 minutes)',
    });
  }
  if (!spec.request) causes.push({ field: 'spec.request', type: 'Required value', detail: '' });
  else {
    try {
      const parsed = parseCsr(Buffer.from(String(spec.request), 'base64').toString('utf8'));
      if (!parsed.signatureValid) causes.push({ field: 'spec.request', type: 'Invalid value', value: '<request>', detail: 'x509: ECDSA verification failure' });
    } catch (e) {
      causes.push({ field: 'spec.request', type: 'Invalid value', value: '<request>', detail: (e as Error).message });
    }
  }
  return causes;
}

/** Seconds of a graceful delete of this pod (pod strategy CheckGracefulDelete): 0 deletes at once. */
export function podGracePeriod(pod: KubeObject, requested: number | undefined): number {
  const spec = (pod.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  if (!spec.nodeName || phase === 'Failed' || phase === 'Succeeded') return 0; // never ran or already done
  const g = requested ?? spec.terminationGracePeriodSeconds ?? 30;
  return g < 0 ? 1 : g;
}

/** Resources whose DELETE answers the deleted object instead of a Status (ReturnDeletedObject). */
export const RETURNS_DELETED_OBJECT = new Set(['pods', 'namespaces', 'certificatesigningrequests']);
