/** The parts of a core/v1 Pod a drain reads. */
export interface PodView {
  namespace: string;
  name: string;
  uid: string;
  /** Set once the pod is being deleted (evicted and waiting for its kubelet). */
  deleting: boolean;
  phase?: string;
  /** The kind of its controller (`ReplicaSet`, `DaemonSet`, `Node` for a mirror pod), if any. */
  controller?: string;
  mirror: boolean;
}

/** `kubernetes.io/config.mirror`: the API's copy of a static pod the kubelet runs from a file. */
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

/** A pod from the API's JSON. */
export function podView(raw: Record<string, unknown>): PodView {
  const meta = (raw.metadata ?? {}) as {
    namespace?: string;
    name?: string;
    uid?: string;
    deletionTimestamp?: string;
    annotations?: Record<string, string>;
    ownerReferences?: { kind?: string; controller?: boolean }[];
  };
  const controller = (meta.ownerReferences ?? []).find((o) => o.controller)?.kind;
  return {
    namespace: meta.namespace ?? 'default',
    name: meta.name ?? '',
    uid: meta.uid ?? '',
    deleting: !!meta.deletionTimestamp,
    phase: ((raw.status ?? {}) as { phase?: string }).phase,
    ...(controller ? { controller } : {}),
    mirror: meta.annotations?.[MIRROR_ANNOTATION] !== undefined,
  };
}

/**
 * Why a drain leaves a pod where it is, as `kubectl drain --ignore-daemonsets` does: a DaemonSet's pod (its
 * controller would put it back at once, and it tolerates the cordon) and a mirror pod (the API cannot delete a
 * static pod: the kubelet runs it from a file). Undefined for the pods a drain evicts.
 */
export function keptByDrain(pod: PodView): string | undefined {
  if (pod.mirror) return 'a mirror pod (static pod of the kubelet)';
  if (pod.controller === 'DaemonSet') return 'a DaemonSet pod';
  return undefined;
}

export const podName = (pod: Pick<PodView, 'namespace' | 'name'>) => `${pod.namespace}/${pod.name}`;
