import { FlexnodeError, isFlexnodeError, StepError, type CheckResult, type StepInstance } from '@flexnode/sdk';
import type { RunLogger } from '../logging/index.js';
import type { PlannedChange, RunListener, StepOutcome, StepResult } from './events.js';
import { runInOrder } from './scheduler.js';
import { crashPoint } from '../state/crash-hook.js';

/** A step as the executor sees it. */
export interface ExecStep {
  id: string;
  title: string;
  plugin: string;
  /** A preflight step gates the run: in a plan, its failure is an error, not a planned change. */
  preflight?: boolean;
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
  /** Put each failure's stack in its result too (it always goes to the log). */
  verbose?: boolean;
  /** How long one check may take before it fails as CHECK_TIMEOUT (default CHECK_TIMEOUT_MS; 0: no limit). */
  checkTimeoutMs?: number;
}

/**
 * A check is read-only and answers in seconds (Azure calls retry for ~10 s, probes time out at 5 s): one that has
 * not answered in two minutes is hung (a plugin awaiting a promise that never settles, a socket without a timeout).
 * It fails, named, instead of holding status, plan or an agent cycle forever (or ending Node with exit 13).
 */
export const CHECK_TIMEOUT_MS = 120_000;

function checkWithin(step: StepInstance, id: string, input: Pick<ExecutorInput, 'checkTimeoutMs'>): Promise<CheckResult> {
  const ms = input.checkTimeoutMs ?? CHECK_TIMEOUT_MS;
  if (ms === 0) return Promise.resolve().then(() => step.check());
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new FlexnodeError('CHECK_TIMEOUT', `the check of ${id} did not answer within ${ms / 1000} s`, {
            hint: "the step's plugin hangs (a request or promise without a timeout): its log lines above show where; report it to the plugin's authors",
          }),
        ),
      ms,
    );
  });
  return Promise.race([Promise.resolve().then(() => step.check()), expired]).finally(() => clearTimeout(timer));
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

/** Where in a step's life it failed: building it from its plugin, its check, its install, the check after it. */
export type StepPhase = 'create' | 'check' | 'install' | 'verify';

/** The stack of an error and of the errors that caused it, for the log (plugin code throws anything). */
function stackOf(error: unknown): string | undefined {
  const lines: string[] = [];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++)
    lines.push(depth === 0 ? (e.stack ?? String(e)) : `caused by: ${e.stack ?? String(e)}`);
  return lines.length ? lines.join('\n') : undefined;
}

/**
 * A failure as results and logs carry it: code, message, hint, and the phase it happened in. A FlexnodeError keeps
 * its code; anything else a plugin threw is STEP_THREW, its message led by the error's kind when that says more than
 * "Error" (`SyntaxError: "undefined" is not valid JSON`), and never without the step, plugin and phase around it.
 */
function errorInfo(error: unknown, phase: StepPhase, input: Pick<ExecutorInput, 'redact' | 'verbose'>) {
  const stack = stackOf(error);
  const base = isFlexnodeError(error)
    ? { code: error.code, message: input.redact(error.message), hint: error.hint }
    : {
        code: 'STEP_THREW',
        message: input.redact(error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : `threw ${String(error)}`),
      };
  return { ...base, phase, ...(input.verbose && stack ? { stack: input.redact(stack) } : {}), log: { phase, stack: stack && input.redact(stack) } };
}

/** The error of a result, without what only the log gets. */
const forResult = ({ log: _log, ...info }: ReturnType<typeof errorInfo>) => info;

/** The fields of the log line of a failure: the error, and its stack apart (a console shows it on its own lines). */
const logFields = ({ log, stack: _stack, ...info }: ReturnType<typeof errorInfo>) => ({ error: info, stack: log.stack });

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
      const result: StepResult = {
        id,
        title: step.title,
        plugin: step.plugin,
        outcome,
        startedMs: stepStarted - started,
        durationMs: now - stepStarted,
        ...extra,
      };
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
      const plugin = byId.get(id)!.plugin;
      const log = input.logger.child({ step: id, plugin });
      let phase: StepPhase = 'create';
      try {
        rec.start(id, 'check');
        crashPoint(`step:${id}:check`);
        const step = input.resolveStep(id);
        phase = 'check';
        const first = await checkWithin(step, id, input);
        if (first.status === 'ok') {
          const entry = input.journal.get(id);
          // Killed after install but before the status was saved: the work is done, keep the journal truthful.
          if (entry && entry.status !== 'installed') await input.journal.setStatus(id, 'installed');
          log.debug('check ok', { detail: first.detail });
          return rec.end(id, started, 'unchanged', { check: first });
        }
        log.info('installing', { reason: notOk(first) });
        rec.start(id, 'install');
        await input.journal.setStatus(id, 'installing', { plugin });
        crashPoint(`step:${id}:before-install`);
        phase = 'install';
        await step.install();
        phase = 'verify';
        const after = await checkWithin(step, id, input);
        if (after.status !== 'ok') throw new StepError(id, `install finished but the check still fails (${notOk(after)})`);
        await input.journal.setStatus(id, 'installed');
        crashPoint(`step:${id}:after-install`);
        log.info('installed');
        return rec.end(id, started, 'installed', { check: after });
      } catch (error) {
        const info = errorInfo(error, phase, input);
        log.error(`failed in ${phase}`, logFields(info));
        await input.journal.setStatus(id, 'failed', { error: info.message }).catch(() => undefined);
        return rec.end(id, started, 'failed', { error: forResult(info) });
      }
    },
    { concurrency: input.concurrency, signal: input.signal },
  );
  return rec.report(notRun);
}

/**
 * plan / --dry-run: check every step; for each that is not ok, run its install against the recording Host so
 * the plan lists the exact files, units and commands. Nothing is changed. A step that cannot be created or
 * checked, and a preflight that fails, are errors (the run is not ok: bootstrap would stop there); a step whose
 * planning fails further on (no Azure credential, say) is listed as planned, with the reason.
 */
export async function runPlan(input: ExecutorInput & { planned: PlannedChange[] }): Promise<RunReport> {
  const rec = recorder(input);
  const byId = new Map(input.steps.map((s) => [s.id, s]));
  const { notRun } = await runInOrder(
    input.steps.map((s) => s.id),
    // Nothing is installed in a dry run, so a step must not wait for its dependencies to succeed.
    new Map(),
    async (id) => {
      const started = Date.now();
      const log = input.logger.child({ step: id, plugin: byId.get(id)!.plugin });
      let check: CheckResult | undefined;
      let phase: StepPhase = 'create';
      const changes = () => input.planned.filter((c) => c.step === id);
      try {
        rec.start(id, 'check');
        crashPoint(`step:${id}:check`);
        const step = input.resolveStep(id);
        phase = 'check';
        check = await checkWithin(step, id, input);
        if (check.status === 'ok') return rec.end(id, started, 'unchanged', { check });
        phase = 'install';
        await step.install();
        return rec.end(id, started, 'planned', { check, changes: changes() });
      } catch (error) {
        const info = errorInfo(error, phase, input);
        log.error(`failed in ${phase}`, logFields(info));
        const failed = phase !== 'install' || byId.get(id)!.preflight === true;
        rec.end(id, started, failed ? 'failed' : 'planned', { check, changes: changes(), error: forResult(info) });
        return true; // a plan goes on: it shows every step
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
      let phase: StepPhase = 'create';
      try {
        rec.start(id, 'check');
        const step = input.resolveStep(id);
        phase = 'check';
        const check = await checkWithin(step, id, input);
        rec.end(id, started, check.status === 'ok' ? 'healthy' : 'unhealthy', { check });
      } catch (error) {
        const info = errorInfo(error, phase, input);
        input.logger.child({ step: id }).error(`failed in ${phase}`, logFields(info));
        rec.end(id, started, 'unhealthy', { error: forResult(info) });
      }
      return true;
    },
    { concurrency: input.concurrency ?? 8, signal: input.signal },
  );
  return rec.report(notRun);
}
