import type { RunEvent } from '@flexnode/core';
import { expect } from 'chai';
import { Interruption } from './interruption.js';

const start = (id: string): RunEvent => ({ type: 'step-start', id, title: id, phase: 'check' });
const end = (id: string): RunEvent => ({ type: 'step-end', result: { id } as Extract<RunEvent, { type: 'step-end' }>['result'] });

function interrupted(events: RunEvent[], command = 'plan', done?: unknown) {
  const abort = new AbortController();
  const said: string[] = [];
  const it = new Interruption(command, abort, (line) => said.push(line));
  it.phase = 'the run, between steps';
  for (const e of events) it.track(e);
  it.handle('SIGTERM');
  let thrown: (Error & { code?: string; exitCode?: number }) | undefined;
  try {
    it.check(done);
  } catch (error) {
    thrown = error as typeof thrown;
  }
  return { aborted: abort.signal.aborted, said, thrown };
}

describe('run/interruption', () => {
  it('names the step in progress when the signal is handled', () => {
    const r = interrupted([start('a'), end('a'), start('b')]);
    expect(r.aborted).to.equal(true);
    expect(r.said).to.deep.equal(['SIGTERM: stopping after the step in progress (b); no new step starts']);
    expect(r.thrown?.message).to.equal('plan interrupted by SIGTERM during step b');
    expect(r.thrown?.exitCode).to.equal(1);
  });

  it('says a run again resumes only for the commands that journal (a plan records nothing)', () => {
    expect((interrupted([start('a')], 'plan').thrown as { hint?: string }).hint).to.equal('run `flexnode plan` again');
    expect((interrupted([start('a')], 'bootstrap').thrown as { hint?: string }).hint).to.equal(
      'run `flexnode bootstrap` again: it resumes where this run stopped',
    );
  });

  it('between steps, names the step that finished last (the signal came during or after it)', () => {
    const r = interrupted([start('a'), end('a'), start('b'), end('b')]);
    expect(r.thrown?.message).to.equal('plan interrupted by SIGTERM during the run, between steps (after step b)');
    expect(r.said[0]).to.contain('(after step b)');
  });

  it('before any step, names the phase alone', () => {
    const r = interrupted([]);
    expect(r.thrown?.message).to.equal('plan interrupted by SIGTERM during the run, between steps');
  });

  it("carries the results of the steps that ran, for --json (a run's report so far)", () => {
    const results = [{ id: 'a', outcome: 'installed' }];
    expect((interrupted([start('a'), end('a')], 'bootstrap', { ok: false, results }).thrown as { results?: unknown }).results).to.equal(results);
    expect(interrupted([start('a')], 'bootstrap').thrown).not.to.have.property('results');
  });
});
