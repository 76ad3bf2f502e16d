import { isFlexnodeError, type Change, type Host, type StepInstance } from '@flexnode/sdk';
import type { RunLogger } from '../logging/index.js';
import type { RunListener, StepResult } from './events.js';
import { crashPoint } from '../state/crash-hook.js';

/** The journal operations uninstalling needs. */
export interface UninstallJournal {
  entries(): [string, { plugin: string; status: string; changes: readonly Change[] }][];
  get(stepId: string): { changes: readonly Change[] } | undefined;
  drop(stepId: string): Promise<void>;
}

export interface UninstallInput {
  journal: UninstallJournal;
  /** Step ids to uninstall; default all journaled steps. */
  only?: ReadonlySet<string>;
  /** The step's code, when a loaded plugin still declares it. */
  instanceOf(stepId: string): StepInstance | undefined;
  /** A Host for a step whose plugin is gone: its journal can still be reverted. */
  hostFor(stepId: string, plugin: string): Host;
  titleOf(stepId: string): string;
  logger: RunLogger;
  redact: (text: string) => string;
  listener?: RunListener;
  /** Put each failure's stack in its result too (it always goes to the log). */
  verbose?: boolean;
  /** The steps a step depends on (directly), for the steps the current graph knows. */
  dependenciesOf?: (stepId: string) => readonly string[];
}

// An exec or a module load cannot be undone by the Host; such records do not keep a step in the journal.
const irreversible = new Set<Change['kind']>(['exec', 'module']);

/**
 * Undo a step whose code is not loaded (its plugin is gone or left out): the Host reverts what it journaled.
 * Custom records meant something only to that code; they are dropped, each named, so that unbootstrap always
 * completes, and the notes say what may be left to check by hand.
 */
async function revertOrphan(host: Host, plugin: string): Promise<string[]> {
  await host.changes.revert();
  const types = [...new Set(host.changes.list().flatMap((c) => (c.kind === 'custom' ? [c.type] : [])))];
  for (const type of types) await host.changes.forget(type);
  return types.map((type) => `${plugin}'s "${type}" journal record cannot be undone without the plugin's code: dropped; check by hand what it stood for`);
}

/**
 * Uninstall journaled steps in reverse install order: the step's own uninstall when its code is loaded,
 * else a revert of its journal. A step is dropped from the journal only when nothing undoable is left;
 * a failure is reported and the other steps still run, so a re-run continues where this one stopped, except
 * the steps the failed one depends on: they stay as they are (what it still runs on is not pulled from under it:
 * a kubelet whose drain was refused keeps its credentials, binaries and runtime).
 */
export async function runUninstall(input: UninstallInput): Promise<{ ok: boolean; results: StepResult[] }> {
  const results: StepResult[] = [];
  const entries = input.journal
    .entries()
    .filter(([id]) => !input.only || input.only.has(id))
    .reverse();
  /** Steps kept because a step that depends on them failed, with that step. */
  const kept = new Map<string, string>();
  const keep = (failed: string, id: string) => {
    for (const dep of input.dependenciesOf?.(id) ?? []) {
      if (kept.has(dep)) continue;
      kept.set(dep, failed);
      keep(failed, dep);
    }
  };
  for (const [id, entry] of entries) {
    const started = Date.now();
    const title = input.titleOf(id);
    const keeper = kept.get(id);
    if (keeper) {
      const result: StepResult = {
        id,
        title,
        plugin: entry.plugin,
        outcome: 'skipped',
        durationMs: 0,
        notes: [`kept: ${keeper}, which depends on it, could not be removed`],
      };
      input.logger.warn(`not uninstalled: ${keeper}, which depends on it, could not be removed`, { step: id });
      results.push(result);
      input.listener?.({ type: 'step-end', result });
      continue;
    }
    input.listener?.({ type: 'step-start', id, title, phase: 'uninstall' });
    let result: StepResult;
    try {
      const instance = input.instanceOf(id);
      crashPoint(`step:${id}:before-uninstall`);
      const notes: string[] = [];
      if (instance) await instance.uninstall();
      else notes.push(...(await revertOrphan(input.hostFor(id, entry.plugin), entry.plugin)));
      for (const note of notes) input.logger.warn(note, { step: id });
      const left = (input.journal.get(id)?.changes ?? []).filter((c) => !irreversible.has(c.kind));
      if (left.length > 0) {
        const kinds = [...new Set(left.map((c) => (c.kind === 'custom' ? c.type : c.kind)))].join(', ');
        throw new Error(`uninstall left ${left.length} journaled change(s) not undone (${kinds})`);
      }
      await input.journal.drop(id);
      crashPoint(`step:${id}:after-uninstall`);
      input.logger.info('uninstalled', { step: id });
      result = { id, title, plugin: entry.plugin, outcome: 'removed', durationMs: Date.now() - started, ...(notes.length ? { notes } : {}) };
    } catch (error) {
      const message = input.redact(error instanceof Error ? error.message : String(error));
      const stack = error instanceof Error && error.stack ? input.redact(error.stack) : undefined;
      input.logger.error('uninstall failed', { step: id, plugin: entry.plugin, phase: 'uninstall', error: message, stack });
      keep(id, id);
      result = {
        id,
        title,
        plugin: entry.plugin,
        outcome: 'failed',
        durationMs: Date.now() - started,
        error: {
          code: isFlexnodeError(error) ? error.code : 'UNINSTALL_FAILED',
          message,
          hint: isFlexnodeError(error) ? error.hint : undefined,
          phase: 'uninstall',
          ...(input.verbose && stack ? { stack } : {}),
        },
      };
    }
    results.push(result);
    input.listener?.({ type: 'step-end', result });
  }
  return { ok: results.every((r) => r.outcome !== 'failed' && r.outcome !== 'skipped'), results };
}
