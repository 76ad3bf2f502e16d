import { isFlexnodeError, StepError, type CheckResult, type StepInstance } from '@flexnode/sdk';
import type { RunLogger } from '../logging/index.js';
import type { PlannedChange, RunListener, StepOutcome, StepResult } from './events.js';
import { runInOrder } from './scheduler.js';
import { crashPoint } from '../state/crash-hook.js';

/** A step as the executor sees it. */
export interface ExecStep {
  id: string;
  title: string;
  plugin: string;
}

/** The journal operations the executor needs (implemented by core's state/Journal). */
export interface ExecJournal {
  get(stepId: string): { status: string; plugin: string } | undefined;
  setStatus(stepId: string, status: 'installing' | 'installed' | 'failed', extra?: { plugin?: string; error?: string }): Promise<void>;
}

export interface ExecutorInput {
  steps: readonly ExecStep[];
  dependencies: ReadonlyMap<string, readonly string[]>;
  resolveStep(id: string): StepInstance;
  logger: RunLogger;
  redact: (text: string) => string;
  listener?: RunListener;
  concurrency?: number;
  signal?: AbortSignal;
}

/** The outcome of a run: per step results in order, and whether everything succeeded. */
export interface RunReport {
  ok: boolean;
  results: StepResult[];
  /** Wall time of the step work, first check to last step done (steps may overlap). */
  elapsedMs?: number;
  /** Where a bootstrap's Host work went: wall time per kind (download, unpack, each command by name), overlaps once. */
  activity?: Record<string, { count: number; ms: number }>;
}

const errorInfo = (error: unknown, redact: (s: string) => string) =>
  isFlexnodeError(error)
    ? { code: error.code, message: redact(error.message), hint: error.hint }
    : { code: 'INTERNAL', message: redact(error instanceof Error ? error.message : String(error)) };

const notOk = (c: CheckResult) => (c.status === 'ok' ? '' : `${c.status}: ${c.reason}`);

/** Shared bookkeeping: timing, events, results in graph order. */
function recorder(input: ExecutorInput) {
  const results = new Map<string, StepResult>();
  const byId = new Map(input.steps.map((s) => [s.id, s]));
  const started = Date.now();
  return {
    start(id: string, phase: 'check' | 'install' | 'uninstall') {
      input.listener?.({ type: 'step-start', id, title: byId.get(id)!.title, phase });
    },
    end(id: string, stepStarted: number, outcome: StepOutcome, extra: Partial<StepResult> = {}) {
      const step = byId.get(id)!;
      const now = Date.now();
      const result: StepResult = { id, title: step.title, plugin: step.plugin, outcome, startedMs: stepStarted - started, durationMs: now - stepStarted, ...extra };
      results.set(id, result);
      input.listener?.({ type: 'step-end', result });
      return outcome !== 'failed';
    },
    report(notRun: string[]): RunReport {
      for (const id of notRun) {
        const step = byId.get(id)!;
        results.set(id, { id, title: step.title, plugin: step.plugin, outcome: 'skipped', durationMs: 0 });
      }
      const ordered = input.steps.map((s) => results.get(s.id)!).filter(Boolean);
      return {
        ok: ordered.every((r) => r.outcome !== 'failed' && r.outcome !== 'skipped' && r.outcome !== 'unhealthy'),
        results: ordered,
        elapsedMs: Date.now() - started,
      };
    },
  };
}

/**
 * bootstrap: for each step in dependency order, check; when not ok, journal it as installing, install, and
 * check again (an install whose check still fails is an error). A killed run resumes: installed steps check
 * ok and are left alone, an interrupted one is installed again (install is idempotent).
 */
export async function runBootstrap(input: ExecutorInput & { journal: ExecJournal }): Promise<RunReport> {
  const rec = recorder(input);
  const byId = new Map(input.steps.map((s) => [s.id, s]));
  const { notRun } = await runInOrder(
    input.steps.map((s) => s.id),
    input.dependencies,
    async (id) => {
      const started = Date.now();
      const log = input.logger.child({ step: id });
      try {
        rec.start(id, 'check');
        const step = input.resolveStep(id);
        const first = await step.check();
        if (first.status === 'ok') {
          const entry = input.journal.get(id);
          // Killed after install but before the status was saved: the work is done, keep the journal truthful.
          if (entry && entry.status !== 'installed') await input.journal.setStatus(id, 'installed');
          log.debug('check ok', { detail: first.detail });
          return rec.end(id, started, 'unchanged', { check: first });
        }
        log.info('installing', { reason: notOk(first) });
        rec.start(id, 'install');
        await input.journal.setStatus(id, 'installing', { plugin: byId.get(id)!.plugin });
        crashPoint(`step:${id}:before-install`);
        await step.install();
        const after = await step.check();
        if (after.status !== 'ok') throw new StepError(id, `install finished but the check still fails (${notOk(after)})`);
        await input.journal.setStatus(id, 'installed');
        crashPoint(`step:${id}:after-install`);
        log.info('installed');
        return rec.end(id, started, 'installed', { check: after });
      } catch (error) {
        const info = errorInfo(error, input.redact);
        log.error('failed', { error: info });
        await input.journal.setStatus(id, 'failed', { error: info.message }).catch(() => undefined);
        return rec.end(id, started, 'failed', { error: info });
      }
    },
    { concurrency: input.concurrency, signal: input.signal },
  );
  return rec.report(notRun);
}

/**
 * plan / --dry-run: check every step; for each that is not ok, run its install against the recording Host so
 * the plan lists the exact files, units and commands. Nothing is changed; a step whose planning fails (no
 * Azure credential, say) is listed with the reason.
 */
export async function runPlan(input: ExecutorInput & { planned: PlannedChange[] }): Promise<RunReport> {
  const rec = recorder(input);
  const { notRun } = await runInOrder(
    input.steps.map((s) => s.id),
    // Nothing is installed in a dry run, so a step must not wait for its dependencies to succeed.
    new Map(),
    async (id) => {
      const started = Date.now();
      let check: CheckResult | undefined;
      try {
        rec.start(id, 'check');
        const step = input.resolveStep(id);
        check = await step.check();
        if (check.status === 'ok') return rec.end(id, started, 'unchanged', { check });
        await step.install();
        return rec.end(id, started, 'planned', { check, changes: input.planned.filter((c) => c.step === id) });
      } catch (error) {
        return rec.end(id, started, 'planned', {
          check,
          changes: input.planned.filter((c) => c.step === id),
          error: errorInfo(error, input.redact),
        });
      }
    },
    { concurrency: 1, signal: input.signal },
  );
  return rec.report(notRun);
}

/** status: every check, read-only, in parallel; healthy when all are ok. */
export async function runStatus(input: ExecutorInput): Promise<RunReport> {
  const rec = recorder(input);
  const { notRun } = await runInOrder(
    input.steps.map((s) => s.id),
    new Map(),
    async (id) => {
      const started = Date.now();
      try {
        rec.start(id, 'check');
        const check = await input.resolveStep(id).check();
        rec.end(id, started, check.status === 'ok' ? 'healthy' : 'unhealthy', { check });
      } catch (error) {
        rec.end(id, started, 'unhealthy', { error: errorInfo(error, input.redact) });
      }
      return true;
    },
    { concurrency: input.concurrency ?? 8, signal: input.signal },
  );
  return rec.report(notRun);
}
