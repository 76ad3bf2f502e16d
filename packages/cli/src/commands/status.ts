import { onlyFlag } from '../base/flags.js';
import { SessionCommand } from '../base/run-command.js';

/** Run every check and report whether the node is healthy. */
export default class Status extends SessionCommand {
  static override summary = 'Check every step; exit 0 when the node is healthy, 1 when not.';

  static override flags = { only: onlyFlag };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Status);
    const report = await this.withSession(flags, 'status', true, (s) => s.status());
    if (!this.jsonEnabled()) this.log(report.ok ? '\nstatus: healthy' : '\nstatus: NOT healthy');
    if (!report.ok) {
      if (this.jsonEnabled()) this.logJson({ ...report, healthy: false });
      this.exit(1);
    }
    return { ...report, healthy: true };
  }
}
