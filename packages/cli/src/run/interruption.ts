import type { RunEvent } from '@flexnode/core';
import { ExitCode, FlexnodeError } from '@flexnode/sdk';

/** Commands whose journal lets a second run pick up where an interrupted one stopped (plan and status change nothing). */
const RESUMES = new Set(['bootstrap', 'unbootstrap', 'upgrade']);

/** What a SIGINT/SIGTERM interrupted: the phase of the command, or the steps in progress when it came. */
export class Interruption {
  phase = 'starting';
  private readonly running = new Set<string>();
  private signal?: string;
  private during: string[] = [];
  /** The step that finished last: a signal handled between steps came during or after it. */
  private lastFinished?: string;
  private after?: string;

  constructor(
    private readonly command: string,
    private readonly abort: AbortController,
    private readonly say: (line: string) => void,
  ) {}

  track(event: RunEvent): void {
    if (event.type === 'step-start') this.running.add(event.id);
    else {
      this.running.delete(event.result.id);
      this.lastFinished = event.result.id;
    }
  }

  readonly handle = (signal: NodeJS.Signals): void => {
    if (this.signal) {
      this.say(`${signal} again: stopping now, during ${this.where()}; run \`flexnode ${this.command}\` again${RESUMES.has(this.command) ? ' to resume' : ''}`);
      process.exit(ExitCode.Failure);
    }
    this.signal = signal;
    this.during = [...this.running];
    this.after = this.lastFinished;
    this.say(`${signal}: stopping after ${this.during.length ? `the step in progress (${this.during.join(', ')})` : this.phaseNamed()}; no new step starts`);
    this.abort.abort();
  };

  /** The phase, and between steps the step the signal came during or after (its handler runs once that step ended). */
  private phaseNamed(): string {
    return this.after ? `${this.phase} (after step ${this.after})` : this.phase;
  }

  private where(): string {
    return this.during.length ? `step ${this.during.join(', ')}` : this.phaseNamed();
  }

  /**
   * Throws (exit 1) when a signal came: the command stops here, naming what it interrupted. `done`, the run's report
   * so far, goes with the error: --json prints the results of the steps that ran (and changed the machine).
   */
  check(done?: unknown): void {
    if (!this.signal) return;
    const error = new FlexnodeError('INTERRUPTED', `${this.command} interrupted by ${this.signal} during ${this.where()}`, {
      exitCode: ExitCode.Failure,
      hint: `run \`flexnode ${this.command}\` again${RESUMES.has(this.command) ? ': it resumes where this run stopped' : ''}`,
    });
    const results = (done as { results?: unknown } | undefined)?.results;
    throw Array.isArray(results) ? Object.assign(error, { results }) : error;
  }
}
