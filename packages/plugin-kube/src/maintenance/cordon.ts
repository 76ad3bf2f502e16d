import { FlexnodeError } from '@flexnode/sdk';
import type { ApiAnswer } from '../kubelet/api.js';
import type { NodesApi } from '../network/nodes.js';

/** Annotations flexnode puts on a Node it cordons: why (`upgrade`, `unbootstrap`) and when. */
export const CORDONED_BY = 'flexnode.io/cordoned-by';
export const CORDONED_AT = 'flexnode.io/cordoned-at';

export type CordonReason = 'upgrade' | 'unbootstrap';

/** Who holds the Node unschedulable: nobody, flexnode (with its reason and time), or someone else. */
export type CordonState = { kind: 'schedulable' } | { kind: 'flexnode'; reason: string; at: string } | { kind: 'other' };

/** The cordon state of a Node object. */
export function cordonState(node: Record<string, unknown>): CordonState {
  const unschedulable = ((node.spec ?? {}) as { unschedulable?: boolean }).unschedulable === true;
  const annotations = ((node.metadata ?? {}) as { annotations?: Record<string, string> }).annotations ?? {};
  if (!unschedulable) return { kind: 'schedulable' };
  const reason = annotations[CORDONED_BY];
  return reason ? { kind: 'flexnode', reason, at: annotations[CORDONED_AT] ?? '' } : { kind: 'other' };
}

/** A failed call, as an error naming it and the fix. */
export function apiFailure(what: string, answer: ApiAnswer): FlexnodeError {
  const denied = answer.status === 401 || answer.status === 403;
  return new FlexnodeError('KUBE_API', `${what} answered HTTP ${answer.status}: ${String(answer.body.message ?? '')}`, {
    hint: denied ? 'the node identity\'s role on the cluster must allow it (README of plugin-kube, "Who makes which call")' : 'check the API server and retry',
  });
}

async function readNode(api: Pick<NodesApi, 'get' | 'patch'>, name: string): Promise<Record<string, unknown>> {
  const answer = await api.get(name);
  if (answer.status !== 200) throw apiFailure(`reading Node ${name}`, answer);
  return answer.body;
}

/**
 * Cordon the Node (`spec.unschedulable`, as `kubectl cordon`) and say on it that flexnode did, and why: anyone
 * (`kubectl describe node`, the next flexnode run, `status`) sees who cordoned it. A Node someone else cordoned is
 * left as it is, and `uncordon` will leave it so too. Returns the state before.
 */
export async function cordon(api: Pick<NodesApi, 'get' | 'patch'>, name: string, reason: CordonReason, now = new Date()): Promise<CordonState> {
  const before = cordonState(await readNode(api, name));
  if (before.kind !== 'schedulable') return before;
  const answer = await api.patch(name, {
    spec: { unschedulable: true },
    metadata: { annotations: { [CORDONED_BY]: reason, [CORDONED_AT]: now.toISOString() } },
  });
  if (answer.status !== 200) throw apiFailure(`cordoning Node ${name}`, answer);
  return before;
}

/** Make the Node schedulable again, only when flexnode cordoned it. True when it did. A Node gone is fine. */
export async function uncordon(api: Pick<NodesApi, 'get' | 'patch'>, name: string): Promise<boolean> {
  const answer = await api.get(name);
  if (answer.status === 404) return false;
  if (answer.status !== 200) throw apiFailure(`reading Node ${name}`, answer);
  const state = cordonState(answer.body);
  const annotations = ((answer.body.metadata ?? {}) as { annotations?: Record<string, string> }).annotations ?? {};
  if (state.kind === 'other' || (state.kind === 'schedulable' && annotations[CORDONED_BY] === undefined)) return false;
  // A merge patch's null removes the field: back to what `kubectl uncordon` leaves.
  const patched = await api.patch(name, { spec: { unschedulable: null }, metadata: { annotations: { [CORDONED_BY]: null, [CORDONED_AT]: null } } });
  if (patched.status !== 200 && patched.status !== 404) throw apiFailure(`uncordoning Node ${name}`, patched);
  return state.kind === 'flexnode';
}
