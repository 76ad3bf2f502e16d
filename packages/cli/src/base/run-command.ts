import type { PlannedChange, RunListener, RunReport, Session } from '@flexnode/core';
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
   * Open a session, run `fn`, and always close it (lock released, staging removed). SIGINT/SIGTERM stop new
   * steps from starting; the step in progress finishes so the journal stays consistent.
   */
  protected async withSession<T>(
    flags: { config?: string; root: string; only?: string[]; verbose?: boolean },
    command: string,
    allowPlaceholders: boolean,
    fn: (session: Session) => Promise<T>,
  ): Promise<T> {
    const { Session } = await import('@flexnode/core/session');
    const loaded = await this.loadConfig(flags, allowPlaceholders);
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const session = await Session.open({
      command,
      config: loaded,
      root: flags.root,
      sources: this.pluginSources(),
      listener: this.listener(),
      signal: abort.signal,
      only: flags.only,
      verbose: flags.verbose,
    });
    try {
      for (const p of session.view.resolution.problems) this.warn(`plugin ${p.plugin} left out: ${p.reason}${p.fix ? ` (fix: ${p.fix})` : ''}`);
      for (const i of session.view.resolution.configIssues) this.warn(`config ${i.path}: ${i.message}`);
      for (const w of session.view.resolution.warnings) this.warn(`plugin ${w.plugin}: ${w.message}`);
      if (loaded.placeholders.length > 0 && !this.jsonEnabled()) {
        this.log(`note: ${loaded.placeholders.length} field(s) still hold placeholders (${loaded.placeholders.join(', ')}); Azure is not contacted for them.`);
      }
      return await fn(session);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await session.close();
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
