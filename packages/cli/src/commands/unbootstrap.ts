import { SessionCommand } from '../base/run-command.js';

/** Undo everything bootstrap did, from the journal. */
export default class Unbootstrap extends SessionCommand {
  static override summary = 'Remove everything flexnode put on this machine and restore what it replaced.';
  static override description =
    'Uninstalls the journaled steps newest first: services stopped and disabled, files restored to their previous content or removed, sysctls put back, Azure resources flexnode created deleted. What flexnode did not install is left alone. Exits non-zero if any step could not be undone; running it again continues.';

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Unbootstrap);
    const report = await this.withSession(flags, 'unbootstrap', false, (s) => s.unbootstrap());
    if (!this.jsonEnabled()) {
      this.log(report.ok ? `\nunbootstrap: done; ${report.results.length} step(s) removed.` : '\nunbootstrap: FAILED for the step(s) above; run it again to retry.');
    }
    if (!report.ok) {
      if (this.jsonEnabled()) this.logJson(report);
      this.exit(1);
    }
    return report;
  }
}
