import { FlexnodeError, type Logger } from '@flexnode/sdk';
import type { ApiAnswer } from '../kubelet/api.js';
import type { KubeApi } from './api.js';
import { apiFailure } from './cordon.js';
import { keptByDrain, podName, podView, type PodView } from './pods.js';

export interface DrainOptions {
  timeoutMs: number;
  /** Go on past pods that cannot be evicted in time: report them instead of failing. */
  force: boolean;
  log: Logger;
  /** Between two rounds of evictions; default 5 s (kubectl drain's retry interval after a 429). */
  retryMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** A pod a drain did not get off the node, and why. */
export interface Blocker {
  pod: string;
  why: string;
}

export interface DrainReport {
  /** Pods the Eviction API accepted. */
  evicted: string[];
  /** Pods a drain leaves (DaemonSet and mirror pods), with why. */
  kept: Blocker[];
  /** With `force`: the pods still on the node when the time was up. */
  blocking: Blocker[];
}

/** A drain that ran out of time: the pods that block, each with why. */
export class DrainTimeoutError extends FlexnodeError {
  constructor(
    readonly node: string,
    readonly blockers: readonly Blocker[],
    timeoutMs: number,
    hint: string,
  ) {
    super('DRAIN_TIMEOUT', `draining Node ${node} timed out after ${Math.round(timeoutMs / 1000)} s: ${describeBlockers(blockers)}`, { hint });
  }
}

export const describeBlockers = (blockers: readonly Blocker[]) =>
  `${blockers.length} pod${blockers.length === 1 ? '' : 's'} still on it: ${blockers.map((b) => `${b.pod} (${b.why})`).join(', ')}`;

/** Why an eviction was refused, from the API's Status: the PodDisruptionBudget named in its DisruptionBudget cause. */
function refusal(pod: PodView, answer: ApiAnswer): string {
  const causes = ((answer.body.details ?? {}) as { causes?: { type?: string; message?: string }[] }).causes ?? [];
  const budget = causes.find((c) => c.type === 'DisruptionBudget')?.message;
  if (answer.status === 429 && budget) {
    const pdb = /disruption budget (\S+)/i.exec(budget)?.[1];
    return `PodDisruptionBudget ${pdb ? `${pod.namespace}/${pdb}` : ''} allows no disruption now: ${budget}`.replace('  ', ' ');
  }
  return `eviction answered HTTP ${answer.status}: ${String(answer.body.message ?? '')}`;
}

/**
 * Evict every pod bound to `node` through the Eviction API (so PodDisruptionBudgets are respected: a budget that
 * allows no disruption answers 429, and the eviction is tried again every `retryMs`), except DaemonSet and mirror
 * pods (as `kubectl drain --ignore-daemonsets`), and wait until the evicted pods are gone (their kubelet stops them
 * and deletes them). When `timeoutMs` runs out: a {@link DrainTimeoutError} naming each pod that blocks and why.
 * With `force` that is a warning and the report's `blocking` instead, and evictions the cluster refuses are not
 * waited for: only pods already terminating are.
 */
export async function drainNode(api: Pick<KubeApi, 'listNodePods' | 'evictPod'>, node: string, options: DrainOptions): Promise<DrainReport> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;
  const retryMs = options.retryMs ?? 5000;
  const deadline = now() + options.timeoutMs;
  const evicted = new Set<string>();
  for (let round = 0; ; round++) {
    const listed = await api.listNodePods(node);
    if (listed.status !== 200) throw apiFailure(`listing the pods of Node ${node}`, listed);
    const pods = ((listed.body.items ?? []) as Record<string, unknown>[]).map(podView);
    const kept = pods.flatMap((p) => (keptByDrain(p) ? [{ pod: podName(p), why: keptByDrain(p)! }] : []));
    if (round === 0 && kept.length) options.log.info(`drain leaves ${kept.map((k) => `${k.pod} (${k.why})`).join(', ')}`);
    const blockers: Blocker[] = [];
    for (const pod of pods.filter((p) => !keptByDrain(p))) {
      const name = podName(pod);
      if (pod.deleting) {
        blockers.push({ pod: name, why: 'terminating: its kubelet has not stopped it yet' });
        continue;
      }
      if (!pod.controller && !evicted.has(name)) options.log.warn(`pod ${name} has no controller: once evicted, nothing starts it again elsewhere`);
      const answer = await api.evictPod(pod.namespace, pod.name);
      if (answer.status === 200 || answer.status === 201) {
        if (!evicted.has(name)) options.log.info(`evicting pod ${name}`);
        evicted.add(name);
        blockers.push({ pod: name, why: 'terminating: its kubelet has not stopped it yet' });
      } else if (answer.status === 401 || answer.status === 403) {
        throw apiFailure(`evicting pod ${name}`, answer);
      } else if (answer.status !== 404) {
        blockers.push({ pod: name, why: refusal(pod, answer) });
      }
    }
    if (blockers.length === 0) return { evicted: [...evicted], kept, blocking: [] };
    const left = deadline - now();
    // --force does not wait on evictions the cluster refuses (a budget, an error): only on pods that are going.
    const refusedOnly = options.force && blockers.every((b) => !b.why.startsWith('terminating'));
    if (left <= 0 || refusedOnly) {
      if (!options.force) {
        throw new DrainTimeoutError(
          node,
          blockers,
          options.timeoutMs,
          'let the PodDisruptionBudgets allow it (scale the workload up, or relax the budget), raise pluginConfig["@flexnode/plugin-kube"].drainTimeoutSeconds, or use --force to go on without these pods\' budgets',
        );
      }
      options.log.warn(`drain of Node ${node}: --force: going on with ${describeBlockers(blockers)}`);
      return { evicted: [...evicted], kept, blocking: blockers };
    }
    if (round === 0) options.log.info(`waiting for ${describeBlockers(blockers)}`);
    await sleep(Math.min(retryMs, left));
  }
}
