import type { PlannedChange, RunEvent, RunListener, RunReport, Session } from '@flexnode/core';
import { ExitCode, FlexnodeError } from '@flexnode/sdk';
import { FlexnodeCommand } from './command.js';
import { commonFlags, verboseFlag } from './flags.js';
import { progressPrinter } from '../render/progress.js';

/** Commands that open a Session on the machine (bootstrap, plan, unbootstrap, status). */
export abstract class SessionCommand extends FlexnodeCommand {
  static override baseFlags = { ...commonFlags, verbose: verboseFlag };

  /** Progress lines on stdout, unless --json asked for one JSON document instead. */
  protected listener(): RunListener | undefined {
    return this.jsonEnabled() ? undefined : progressPrinter();
  }

  /**
   * Open a session, run `fn`, and always close it (lock released, staging removed). SIGINT/SIGTERM, from the
   * config's loading on, stop new steps from starting; the step in progress finishes so the journal stays
   * consistent; then the command says which step was interrupted and exits 1 (dry runs included). The next run
   * resumes. A second signal stops at once (the journal is write-ahead; the lock is taken over next time).
   */
  protected async withSession<T>(
    flags: { config?: string; root: string; only?: string[]; verbose?: boolean; force?: boolean },
    command: string,
    allowPlaceholders: boolean,
    fn: (session: Session) => Promise<T>,
  ): Promise<T> {
    const abort = new AbortController();
    const interruption = new Interruption(command, abort, (line) => this.logToStderr(line));
    process.on('SIGINT', interruption.handle);
    process.on('SIGTERM', interruption.handle);
    let session: Session | undefined;
    try {
      const { Session } = await import('@flexnode/core/session');
      interruption.phase = 'loading the config';
      // status, unbootstrap and upgrade must work on a node whose secret is gone (upgrade needs only the node's own
      // identity and the records): for them an unusable secret is a warning.
      const loaded = await this.loadConfig(flags, allowPlaceholders, ['status', 'unbootstrap', 'upgrade'].includes(command) ? 'warn' : 'refuse');
      interruption.check();
      interruption.phase = 'resolving the plugins';
      const printer = this.listener();
      session = await Session.open({
        command,
        config: loaded,
        root: flags.root,
        sources: this.pluginSources(),
        listener: (event) => {
          interruption.track(event);
          printer?.(event);
        },
        signal: abort.signal,
        only: flags.only,
        force: flags.force,
      });
      interruption.check();
      interruption.phase = 'the run, between steps';
      for (const p of session.view.resolution.problems) this.warn(`plugin ${p.plugin} left out: ${p.reason}${p.fix ? ` (fix: ${p.fix})` : ''}`);
      for (const i of session.view.resolution.configIssues) this.warn(`config ${i.path}: ${i.message}`);
      for (const w of session.view.resolution.warnings) this.warn(`plugin ${w.plugin}: ${w.message}`);
      if (loaded.placeholders.length > 0 && !this.jsonEnabled()) {
        this.log(`note: ${loaded.placeholders.length} field(s) still hold placeholders (${loaded.placeholders.join(', ')}); Azure is not contacted for them.`);
      }
      const result = await fn(session);
      interruption.check();
      return result;
    } finally {
      process.off('SIGINT', interruption.handle);
      process.off('SIGTERM', interruption.handle);
      await session?.close();
    }
  }

  /** The dry run, shared by `plan` and `bootstrap --dry-run`. */
  /**
   * The dry run, shared by `plan` and `bootstrap --dry-run`. Exits 1 when a step cannot be created or checked, or a
   * preflight fails: bootstrap would stop there.
   */
  protected async runPlan(flags: { config?: string; root: string; only?: string[]; verbose?: boolean }): Promise<RunReport & { changes: PlannedChange[] }> {
    const report = await this.withSession(flags, 'plan', true, (s) => s.plan());
    const failed = report.results.filter((r) => r.outcome === 'failed');
    if (!this.jsonEnabled()) {
      for (const c of report.changes.filter((c) => c.action === 'uninstall')) this.log(`- ${c.target}: ${c.detail}`);
      const toChange = report.results.filter((r) => r.outcome === 'planned').length;
      this.log(
        `\nplan: ${toChange} of ${report.results.length} step(s) would change the machine; ${report.changes.length} change(s) in all. Nothing was changed.`,
      );
      if (failed.length) this.log(`plan: ${failed.length} step(s) FAILED (${failed.map((r) => r.id).join(', ')}): bootstrap would stop there; fix them first.`);
    }
    if (!report.ok) {
      if (this.jsonEnabled()) this.logJson(report);
      this.exit(1);
    }
    return report;
  }
}

/** What a SIGINT/SIGTERM interrupted: the phase of the command, or the steps in progress when it came. */
class Interruption {
  phase = 'starting';
  private readonly running = new Set<string>();
  private signal?: string;
  private during: string[] = [];

  constructor(
    private readonly command: string,
    private readonly abort: AbortController,
    private readonly say: (line: string) => void,
  ) {}

  track(event: RunEvent): void {
    if (event.type === 'step-start') this.running.add(event.id);
    else this.running.delete(event.result.id);
  }

  readonly handle = (signal: NodeJS.Signals): void => {
    if (this.signal) {
      this.say(`${signal} again: stopping now, during ${this.where()}; run \`flexnode ${this.command}\` again to resume`);
      process.exit(ExitCode.Failure);
    }
    this.signal = signal;
    this.during = [...this.running];
    this.say(`${signal}: stopping after ${this.during.length ? `the step in progress (${this.during.join(', ')})` : this.phase}; no new step starts`);
    this.abort.abort();
  };

  private where(): string {
    return this.during.length ? `step ${this.during.join(', ')}` : this.phase;
  }

  /** Throws (exit 1) when a signal came: the command stops here, naming what it interrupted. */
  check(): void {
    if (!this.signal) return;
    throw new FlexnodeError('INTERRUPTED', `${this.command} interrupted by ${this.signal} during ${this.where()}`, {
      exitCode: ExitCode.Failure,
      hint: `run \`flexnode ${this.command}\` again: it resumes where this run stopped`,
    });
  }
}
