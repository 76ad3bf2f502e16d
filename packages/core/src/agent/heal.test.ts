import { expect } from 'chai';
import { HealTracker } from './heal.js';

describe('agent heal policy (HealTracker, fake clock)', () => {
  const policy = { maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 3_000, slowRetryMs: 60_000 };

  it('backs off exponentially (capped), then reports the step failing and retries it only at the slow rate', () => {
    let now = 0;
    const t = new HealTracker(policy, () => now);
    t.observe('a', { status: 'drifted', reason: 'unit stopped' });
    expect(t.due('a')).to.equal(true);
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      const h = t.failed('a', 'boom');
      waits.push(Date.parse(h.nextAttemptAt!) - now);
      expect(t.due('a')).to.equal(false);
      now = Date.parse(h.nextAttemptAt!) - 1;
      expect(t.due('a'), 'not before its time').to.equal(false);
      now += 1;
      expect(t.due('a')).to.equal(true);
      t.observe('a', { status: 'drifted', reason: 'still' });
    }
    expect(waits).to.deep.equal([1_000, 2_000, 3_000, 60_000, 60_000]);
    expect(t.get('a')).to.include({ state: 'failing', consecutiveFailures: 5, lastError: 'boom' });
    expect(t.healthy).to.equal(false);
  });

  it('a successful heal (or a check that passes again) resets the failures', () => {
    let now = 0;
    const t = new HealTracker(policy, () => now);
    t.observe('a', { status: 'missing', reason: 'absent' });
    for (let i = 0; i < 4; i++) t.failed('a', 'boom');
    expect(t.get('a')!.state).to.equal('failing');
    now = 10;
    t.healed('a');
    expect(t.get('a')).to.include({ state: 'ok', consecutiveFailures: 0 });
    expect(t.get('a')!.lastHealed).to.be.a('string');
    t.observe('b', { status: 'drifted', reason: 'x' });
    t.failed('b', 'x');
    t.observe('b', { status: 'ok' });
    expect(t.get('b')).to.include({ state: 'ok', consecutiveFailures: 0 });
    expect(t.due('b')).to.equal(false);
    expect(t.healthy).to.equal(true);
  });

  it('forgets steps that left the run', () => {
    const t = new HealTracker(policy);
    t.observe('a', { status: 'ok' });
    t.observe('b', { status: 'ok' });
    t.retain(['a']);
    expect(Object.keys(t.snapshot())).to.deep.equal(['a']);
  });
});
