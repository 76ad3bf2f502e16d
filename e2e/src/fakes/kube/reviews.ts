// The review APIs (create-only, nothing stored): TokenReview (pkg/registry/authentication/tokenreview: authenticate
// spec.token for spec.audiences, default the API server's), SubjectAccessReview / SelfSubjectAccessReview /
// LocalSubjectAccessReview (pkg/registry/authorization: run the authorizer chain for the given attributes; allowed,
// denied and reason as the chain says) and SelfSubjectReview (`kubectl auth whoami`).
import type { Authenticator } from './authn.js';
import type { AuthorizerChain } from './authz.js';
import { errors } from './status.js';
import type { RequestAttributes, UserInfo } from './types.js';

export function tokenReview(authn: Authenticator, body: Record<string, any>): Record<string, unknown> {
  const token = String(body?.spec?.token ?? '');
  const audiences: string[] | undefined = Array.isArray(body?.spec?.audiences) && body.spec.audiences.length ? body.spec.audiences : undefined;
  if (!token) throw errors.invalid('TokenReview', 'authentication.k8s.io', '', [{ field: 'spec.token', type: 'Required value', detail: '' }]);
  const r = authn.token(token, audiences ?? authn.apiAudiences);
  const status = r.user
    ? {
        authenticated: true,
        user: { username: r.user.name, ...(r.user.uid ? { uid: r.user.uid } : {}), groups: r.user.groups, ...(r.user.extra ? { extra: r.user.extra } : {}) },
        audiences: audiences ?? authn.apiAudiences,
      }
    : { user: {}, error: `[${r.error ?? 'invalid bearer token'}]` };
  return { kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, spec: body.spec, status };
}

type SarSpec = {
  user?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  resourceAttributes?: {
    namespace?: string;
    verb?: string;
    group?: string;
    version?: string;
    resource?: string;
    subresource?: string;
    name?: string;
    fieldSelector?: { rawSelector?: string };
    labelSelector?: { rawSelector?: string };
  };
  nonResourceAttributes?: { path?: string; verb?: string };
};

function sarAttributes(user: UserInfo, spec: SarSpec): RequestAttributes {
  const ra = spec.resourceAttributes;
  if (ra) {
    return {
      user,
      verb: ra.verb ?? '',
      isResourceRequest: true,
      path: '',
      apiGroup: ra.group ?? '',
      apiVersion: ra.version ?? '',
      resource: ra.resource ?? '',
      subresource: ra.subresource ?? '',
      namespace: ra.namespace ?? '',
      name: ra.name ?? '',
      fieldSelector: ra.fieldSelector?.rawSelector,
      labelSelector: ra.labelSelector?.rawSelector,
    };
  }
  const nr = spec.nonResourceAttributes ?? {};
  return {
    user,
    verb: nr.verb ?? '',
    isResourceRequest: false,
    path: nr.path ?? '',
    apiGroup: '',
    apiVersion: '',
    resource: '',
    subresource: '',
    namespace: '',
    name: '',
  };
}

function review(kind: string, body: Record<string, any>, user: UserInfo, authz: AuthorizerChain): Record<string, unknown> {
  const spec = (body?.spec ?? {}) as SarSpec;
  if (!!spec.resourceAttributes === !!spec.nonResourceAttributes) {
    throw errors.invalid(kind, 'authorization.k8s.io', '', [
      {
        field: 'spec.resourceAttributes',
        type: 'Invalid value',
        value: '',
        detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified',
      },
    ]);
  }
  const r = authz.authorize(sarAttributes(user, spec));
  const status = { allowed: r.decision === 'allow', ...(r.decision === 'deny' ? { denied: true } : {}), ...(r.reason ? { reason: r.reason } : {}) };
  return { kind, apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec: body.spec, status };
}

export function subjectAccessReview(body: Record<string, any>, authz: AuthorizerChain): Record<string, unknown> {
  const spec = (body?.spec ?? {}) as SarSpec;
  if (!spec.user && !(spec.groups ?? []).length) {
    throw errors.invalid('SubjectAccessReview', 'authorization.k8s.io', '', [
      { field: 'spec.user', type: 'Invalid value', value: '', detail: 'at least one of user or group must be specified' },
    ]);
  }
  return review('SubjectAccessReview', body, { name: spec.user ?? '', uid: spec.uid, groups: spec.groups ?? [], extra: spec.extra }, authz);
}

export function selfSubjectAccessReview(body: Record<string, any>, requester: UserInfo, authz: AuthorizerChain): Record<string, unknown> {
  return review('SelfSubjectAccessReview', body, requester, authz);
}

export function localSubjectAccessReview(body: Record<string, any>, namespace: string, authz: AuthorizerChain): Record<string, unknown> {
  const spec = (body?.spec ?? {}) as SarSpec;
  if (spec.resourceAttributes && spec.resourceAttributes.namespace !== namespace) {
    throw errors.badRequest(`spec.resourceAttributes.namespace must match namespace: ${namespace}`);
  }
  const r = subjectAccessReview(body, authz);
  return { ...r, kind: 'LocalSubjectAccessReview', metadata: { namespace, creationTimestamp: null } };
}

export function selfSubjectReview(requester: UserInfo): Record<string, unknown> {
  return {
    kind: 'SelfSubjectReview',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { creationTimestamp: null },
    status: {
      userInfo: {
        username: requester.name,
        ...(requester.uid ? { uid: requester.uid } : {}),
        groups: requester.groups,
        ...(requester.extra ? { extra: requester.extra } : {}),
      },
    },
  };
}
