// Subresources with their own logic:
//  - serviceaccounts/token (TokenRequest; pkg/registry/core/serviceaccount/storage/token.go): a JWT for the service
//    account, optionally bound to a pod (uid checked, pod's serviceAccountName must match), audiences default to
//    the API server's, expirationSeconds at least 600 (default 3600);
//  - pods/eviction (policy/v1 Eviction; pkg/registry/core/pod/storage/eviction.go): terminal, pending or already
//    deleting pods are deleted without a PDB check; otherwise the single PDB matching the pod must allow a
//    disruption (429 TooManyRequests "Cannot evict pod as it would violate the pod's disruption budget." with the
//    DisruptionBudget cause when disruptionsAllowed is 0; 500 with more than one PDB); the PDB is decremented and
//    the pod gets the DisruptionTarget condition, then is deleted (gracefully); answer 201 Status Success.
import { randomUUID } from 'node:crypto';
import type { ApiResource } from './api-resources.js';
import type { Authenticator } from './authn.js';
import { podReady } from './controllers.js';
import { remove, type Reply, type RestContext } from './rest.js';
import { labelSelectorMatches } from './selectors.js';
import { errors } from './status.js';
import { now } from './store.js';
import type { KubeObject } from './types.js';

export function tokenRequest(
  ctx: RestContext,
  authn: Authenticator,
  res: (r: string) => ApiResource,
  ns: string,
  name: string,
  body: Record<string, any>,
): Reply {
  const sa = ctx.store.get(res('serviceaccounts'), ns, name);
  if (!sa) throw errors.notFound('serviceaccounts', '', name);
  const spec = (body?.spec ?? {}) as {
    audiences?: string[];
    expirationSeconds?: number;
    boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string };
  };
  const expirationSeconds = spec.expirationSeconds ?? 3600;
  if (expirationSeconds < 600) {
    throw errors.invalid('TokenRequest', 'authentication.k8s.io', name, [
      { field: 'spec.expirationSeconds', type: 'Invalid value', value: expirationSeconds, detail: 'may not specify a duration less than 10 minutes' },
    ]);
  }
  if (expirationSeconds > 2 ** 32) {
    throw errors.invalid('TokenRequest', 'authentication.k8s.io', name, [
      { field: 'spec.expirationSeconds', type: 'Invalid value', value: expirationSeconds, detail: 'may not specify a duration larger than 2^32 seconds' },
    ]);
  }
  ctx.admit({
    user: ctx.user,
    operation: 'create',
    res: res('serviceaccounts'),
    subresource: 'token',
    namespace: ns,
    name,
    object: { metadata: { name }, spec } as KubeObject,
  });
  const claims: Record<string, unknown> = { namespace: ns, serviceaccount: { name, uid: sa.metadata.uid } };
  const ref = spec.boundObjectRef;
  if (ref) {
    if (ref.kind !== 'Pod' && ref.kind !== 'Secret' && ref.kind !== 'Node') throw errors.badRequest(`cannot bind token object of kind "${String(ref.kind)}"`);
    const kindRes = ref.kind === 'Pod' ? 'pods' : ref.kind === 'Secret' ? 'secrets' : 'nodes';
    const obj = ctx.store.get(res(kindRes), ref.kind === 'Node' ? '' : ns, String(ref.name ?? ''));
    if (!obj) throw errors.notFound(kindRes, '', String(ref.name ?? ''));
    if (ref.uid && ref.uid !== obj.metadata.uid) {
      throw errors.conflict(
        kindRes,
        '',
        String(ref.name),
        `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      );
    }
    if (ref.kind === 'Pod') {
      const podSa = (obj.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName;
      if (podSa !== name) throw errors.badRequest(`cannot bind token for serviceaccount "${name}" to pod running with different serviceaccount name.`);
      claims.pod = { name: obj.metadata.name, uid: obj.metadata.uid };
      const nodeName = (obj.spec as { nodeName?: string }).nodeName;
      const node = nodeName ? ctx.store.get(res('nodes'), '', nodeName) : undefined;
      if (node) claims.node = { name: node.metadata.name, uid: node.metadata.uid };
    } else claims[ref.kind.toLowerCase()] = { name: obj.metadata.name, uid: obj.metadata.uid };
  }
  const iat = Math.floor(Date.now() / 1000);
  const audiences = spec.audiences?.length ? spec.audiences : authn.apiAudiences;
  const token = authn.issueServiceAccountToken({
    aud: audiences,
    exp: iat + expirationSeconds,
    iat,
    nbf: iat,
    iss: authn.saIssuer,
    jti: randomUUID(),
    sub: `system:serviceaccount:${ns}:${name}`,
    'kubernetes.io': claims,
  });
  const expirationTimestamp = new Date((iat + expirationSeconds) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    status: 201,
    body: {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name, namespace: ns, creationTimestamp: null },
      spec: { ...spec, audiences, expirationSeconds },
      status: { token, expirationTimestamp },
    },
  };
}

export function evict(ctx: RestContext, res: (r: string) => ApiResource, ns: string, name: string, body: Record<string, any>): Reply {
  if (body?.metadata?.name !== name) throw errors.badRequest('name in URL does not match name in Eviction object');
  const pods = res('pods');
  const pod = ctx.store.get(pods, ns, name);
  if (!pod) throw errors.notFound('pods', '', name);
  ctx.admit({ user: ctx.user, operation: 'create', res: pods, subresource: 'eviction', namespace: ns, name, object: body as KubeObject });
  const options = (body.deleteOptions ?? {}) as { gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string } };
  const inner: RestContext = { ...ctx, admit: () => undefined }; // the registry's own delete: no second admission
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  const success = () => ({ status: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } });
  if (phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || pod.metadata.deletionTimestamp) {
    remove(inner, pods, ns, name, options);
    return success();
  }
  const pdbRes = res('poddisruptionbudgets');
  const pdbs = ctx.store.list(pdbRes, ns).filter((p) => labelSelectorMatches((p.spec as { selector?: never })?.selector, pod.metadata.labels));
  if (pdbs.length > 1) {
    return {
      status: 500,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        code: 500,
        message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
      },
    };
  }
  const pdb = pdbs[0];
  let decrement = !!pdb;
  if (pdb) {
    const st = (pdb.status ?? {}) as {
      currentHealthy?: number;
      desiredHealthy?: number;
      disruptionsAllowed?: number;
      observedGeneration?: number;
      disruptedPods?: Record<string, string>;
    };
    if (!podReady(pod)) {
      const policy = (pdb.spec as { unhealthyPodEvictionPolicy?: string }).unhealthyPodEvictionPolicy;
      // an unready pod can go without using the budget: AlwaysAllow, or (IfHealthyBudget) while the budget is met
      if (policy === 'AlwaysAllow' || ((st.currentHealthy ?? 0) >= (st.desiredHealthy ?? 0) && (st.desiredHealthy ?? 0) > 0)) decrement = false;
    }
    if (decrement) {
      if ((st.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) {
        throw errors.tooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 10, [
          { type: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata.name} is still being processed by the server.` },
        ]);
      }
      if ((st.disruptionsAllowed ?? 0) < 0) throw errors.forbidden('poddisruptionbudget', 'policy', pdb.metadata.name, 'pdb disruptions allowed is negative');
      if ((st.disruptionsAllowed ?? 0) === 0) {
        throw errors.tooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0, [
          {
            type: 'DisruptionBudget',
            message: `The disruption budget ${pdb.metadata.name} needs ${st.desiredHealthy ?? 0} healthy pods and has ${st.currentHealthy ?? 0} currently`,
          },
        ]);
      }
      const allowed = (st.disruptionsAllowed ?? 0) - 1;
      ctx.store.replace(pdbRes, {
        ...pdb,
        status: {
          ...st,
          disruptionsAllowed: allowed,
          disruptedPods: { ...(st.disruptedPods ?? {}), [name]: now() },
          ...(allowed === 0
            ? {
                conditions: [
                  { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: pdb.metadata.generation },
                ],
              }
            : {}),
        },
      });
    }
  }
  // PodDisruptionConditions (GA 1.31): the DisruptionTarget condition before the delete
  const cur = ctx.store.get(pods, ns, name)!;
  const conds = (((cur.status ?? {}) as { conditions?: Record<string, unknown>[] }).conditions ?? []).filter((c) => c.type !== 'DisruptionTarget');
  ctx.store.replace(pods, {
    ...cur,
    status: {
      ...(cur.status ?? {}),
      conditions: [
        ...conds,
        {
          type: 'DisruptionTarget',
          status: 'True',
          reason: 'EvictionByEvictionAPI',
          message: 'Eviction API: evicting',
          lastProbeTime: null,
          lastTransitionTime: now(),
        },
      ],
    },
  });
  remove(inner, pods, ns, name, options);
  return success();
}
