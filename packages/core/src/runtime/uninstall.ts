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
}

// An exec or a module load cannot be undone by the Host; such records do not keep a step in the journal.
const irreversible = new Set<Change['kind']>(['exec', 'module']);

/**
 * Uninstall journaled steps in reverse install order: the step's own uninstall when its code is loaded,
 * else a revert of its journal. A step is dropped from the journal only when nothing undoable is left;
 * a failure is reported and the other steps still run, so a re-run continues where this one stopped.
 */
export async function runUninstall(input: UninstallInput): Promise<{ ok: boolean; results: StepResult[] }> {
  const results: StepResult[] = [];
  const entries = input.journal.entries().filter(([id]) => !input.only || input.only.has(id)).reverse();
  for (const [id, entry] of entries) {
    const started = Date.now();
    const title = input.titleOf(id);
    input.listener?.({ type: 'step-start', id, title, phase: 'uninstall' });
    let result: StepResult;
    try {
      const instance = input.instanceOf(id);
      crashPoint(`step:${id}:before-uninstall`);
      if (instance) await instance.uninstall();
      else await input.hostFor(id, entry.plugin).changes.revert();
      const left = (input.journal.get(id)?.changes ?? []).filter((c) => !irreversible.has(c.kind));
      if (left.length > 0) {
        const kinds = [...new Set(left.map((c) => (c.kind === 'custom' ? c.type : c.kind)))].join(', ');
        throw new Error(`uninstall left ${left.length} journaled change(s) not undone (${kinds})`);
      }
      await input.journal.drop(id);
      crashPoint(`step:${id}:after-uninstall`);
      input.logger.info('uninstalled', { step: id });
      result = { id, title, plugin: entry.plugin, outcome: 'removed', durationMs: Date.now() - started };
    } catch (error) {
      const message = input.redact(error instanceof Error ? error.message : String(error));
      input.logger.error('uninstall failed', { step: id, error: message });
      result = {
        id,
        title,
        plugin: entry.plugin,
        outcome: 'failed',
        durationMs: Date.now() - started,
        error: { code: isFlexnodeError(error) ? error.code : 'UNINSTALL_FAILED', message, hint: isFlexnodeError(error) ? error.hint : undefined },
      };
    }
    results.push(result);
    input.listener?.({ type: 'step-end', result });
  }
  return { ok: results.every((r) => r.outcome !== 'failed'), results };
}
