import type { CheckResult } from '@flexnode/sdk';

/** How the agent retries a step whose heal fails. */
export interface HealPolicy {
  /** Consecutive failed heals after which a step is reported `failing` and retried only every `slowRetryMs`. */
  maxAttempts: number;
  /** Wait after the first failure; doubled after each further one (exponential backoff). */
  baseDelayMs: number;
  /** Cap of the exponential wait. */
  maxDelayMs: number;
  /** Retry period of a `failing` step: reported, not hammered. */
  slowRetryMs: number;
}

/** Defaults: 5 attempts spaced 1, 2, 4, 8 intervals apart (capped at 10 min), then one try every 30 min. */
export function defaultHealPolicy(intervalMs: number): HealPolicy {
  return { maxAttempts: 5, baseDelayMs: intervalMs, maxDelayMs: 10 * 60_000, slowRetryMs: 30 * 60_000 };
}

/** A step as the agent last saw it. `failing`: its heal failed `maxAttempts` times in a row. */
export type StepState = 'ok' | 'missing' | 'drifted' | 'error' | 'failing';

export interface StepHealth {
  state: StepState;
  /** Why it is not ok (the check's reason), redacted. */
  reason?: string;
  /** ISO time of the last check. */
  lastCheck?: string;
  /** The last heal or check error, redacted. */
  lastError?: string;
  consecutiveFailures: number;
  /** ISO time before which no heal is attempted (backoff). */
  nextAttemptAt?: string;
  /** ISO time of the last successful heal. */
  lastHealed?: string;
}

/**
 * Per-step heal bookkeeping: what each check said, how often its heal failed in a row, and when it may be tried
 * again. Pure and clock-driven, so the backoff is tested without waiting.
 */
export class HealTracker {
  private readonly steps = new Map<string, StepHealth & { next?: number }>();

  constructor(
    public policy: HealPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  private entry(id: string) {
    let e = this.steps.get(id);
    if (!e) this.steps.set(id, (e = { state: 'ok', consecutiveFailures: 0 }));
    return e;
  }

  /** Record a check result (or the error a check threw). A failing step stays `failing` until a heal succeeds. */
  observe(id: string, result: CheckResult | { error: string }): void {
    const e = this.entry(id);
    e.lastCheck = new Date(this.now()).toISOString();
    if ('error' in result) {
      e.reason = result.error;
      if (e.state !== 'failing') e.state = 'error';
    } else if (result.status === 'ok') {
      e.state = 'ok';
      delete e.reason;
      // Fixed by itself or by hand: forget the failures.
      e.consecutiveFailures = 0;
      delete e.next;
      delete e.nextAttemptAt;
    } else {
      e.reason = result.reason;
      if (e.state !== 'failing') e.state = result.status;
    }
  }

  /** Whether a heal of this step may run now (it is not ok and its backoff has passed). */
  due(id: string): boolean {
    const e = this.steps.get(id);
    if (!e || e.state === 'ok') return false;
    return e.next === undefined || this.now() >= e.next;
  }

  /** The heal installed the step, or found it ok. */
  healed(id: string): void {
    const e = this.entry(id);
    const wasBroken = e.state !== 'ok';
    e.state = 'ok';
    e.consecutiveFailures = 0;
    delete e.reason;
    delete e.next;
    delete e.nextAttemptAt;
    if (wasBroken) e.lastHealed = new Date(this.now()).toISOString();
  }

  /** The heal failed: back off exponentially; after `maxAttempts` in a row the step is `failing`. */
  failed(id: string, error: string): StepHealth {
    const e = this.entry(id);
    e.consecutiveFailures++;
    e.lastError = error;
    const p = this.policy;
    let wait: number;
    if (e.consecutiveFailures >= p.maxAttempts) {
      e.state = 'failing';
      wait = p.slowRetryMs;
    } else {
      if (e.state === 'ok') e.state = 'error';
      wait = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (e.consecutiveFailures - 1));
    }
    e.next = this.now() + wait;
    e.nextAttemptAt = new Date(e.next).toISOString();
    return this.view(e);
  }

  get(id: string): StepHealth | undefined {
    const e = this.steps.get(id);
    return e && this.view(e);
  }

  /** Forget steps that are no longer part of the run (after a config reload). */
  retain(ids: Iterable<string>): void {
    const keep = new Set(ids);
    for (const id of [...this.steps.keys()]) if (!keep.has(id)) this.steps.delete(id);
  }

  /** Every known step's view, for the status file. */
  snapshot(): Record<string, StepHealth> {
    return Object.fromEntries([...this.steps].map(([id, e]) => [id, this.view(e)]));
  }

  get healthy(): boolean {
    return [...this.steps.values()].every((e) => e.state === 'ok');
  }

  private view(e: StepHealth & { next?: number }): StepHealth {
    const { next: _next, ...rest } = e;
    return { ...rest };
  }
}
