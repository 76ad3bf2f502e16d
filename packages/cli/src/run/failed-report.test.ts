import { expect } from 'chai';
import type { StepResult } from '@flexnode/core';
import { failedReport } from './failed-report.js';

const r = (id: string, outcome: StepResult['outcome'], error?: StepResult['error']): StepResult => ({
  id,
  title: id,
  plugin: 'p',
  outcome,
  durationMs: 0,
  ...(error ? { error } : {}),
});

describe('a failed run report under --json', () => {
  it("carries the first failed step's error (its code, message and hint) beside every result", () => {
    const report = {
      ok: false,
      results: [
        r('a', 'installed'),
        r('b', 'failed', { code: 'ARC_IDENTITY_UNAVAILABLE', message: 'no token', hint: 'connect first', phase: 'install' }),
        r('c', 'failed', { code: 'X', message: 'later' }),
      ],
    };
    const doc = failedReport(report, 'bootstrap');
    expect(doc.ok).to.equal(false);
    expect(doc.results).to.have.length(3);
    expect(doc.error).to.deep.equal({
      code: 'ARC_IDENTITY_UNAVAILABLE',
      message: 'bootstrap: 2 step(s) failed (b, c); b in install: no token',
      hint: 'connect first',
      step: 'b',
    });
  });

  it('names unhealthy steps (status) and steps that did not run when none failed', () => {
    expect(failedReport({ results: [r('a', 'healthy'), r('b', 'unhealthy'), r('c', 'unhealthy')] }, 'status').error).to.deep.equal({
      code: 'UNHEALTHY',
      message: 'status: 2 step(s) unhealthy (b, c)',
      step: 'b',
    });
    expect(failedReport({ results: [r('a', 'skipped')] }, 'bootstrap').error).to.deep.include({ code: 'NOT_RUN', step: 'a' });
  });
});
