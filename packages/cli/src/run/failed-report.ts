import type { StepResult } from '@flexnode/core';

/** The `error` every `{"ok": false}` document carries, for a run whose report says why in its step results. */
export interface ReportError {
  code: string;
  message: string;
  hint?: string;
  /** The first step that failed (or is unhealthy), in run order. */
  step?: string;
}

/**
 * A run report that did not succeed, as --json prints it: the report (every step's result) with `ok: false` and
 * the `error` of the first step that failed (its own code: a script can branch on ARC_IDENTITY_UNAVAILABLE as on
 * any other failure), or, when none failed, of the first unhealthy or skipped one.
 */
export function failedReport<T extends { results: readonly StepResult[] }>(report: T, command: string): T & { ok: false; error: ReportError } {
  const failed = report.results.filter((r) => r.outcome === 'failed');
  const unhealthy = report.results.filter((r) => r.outcome === 'unhealthy');
  const skipped = report.results.filter((r) => r.outcome === 'skipped');
  const first = failed[0] ?? unhealthy[0] ?? skipped[0];
  const ids = (rs: readonly StepResult[]) => rs.map((r) => r.id).join(', ');
  const error: ReportError = failed.length
    ? {
        code: first!.error?.code ?? 'STEP_FAILED',
        message: `${command}: ${failed.length} step(s) failed (${ids(failed)}); ${first!.id}${first!.error?.phase ? ` in ${first!.error.phase}` : ''}: ${first!.error?.message ?? 'failed'}`,
        ...(first!.error?.hint ? { hint: first!.error.hint } : {}),
        step: first!.id,
      }
    : unhealthy.length
      ? { code: 'UNHEALTHY', message: `${command}: ${unhealthy.length} step(s) unhealthy (${ids(unhealthy)})`, step: first!.id }
      : { code: 'NOT_RUN', message: `${command}: ${skipped.length} step(s) did not run (${ids(skipped)})`, ...(first ? { step: first.id } : {}) };
  return { ...report, ok: false, error };
}
