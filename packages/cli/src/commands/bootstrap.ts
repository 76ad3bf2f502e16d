import { ExitCode } from '@flexnode/sdk';
import { Flags } from '@oclif/core';
import { onlyFlag } from '../base/flags.js';
import { SessionCommand } from '../base/run-command.js';
import { failedReport } from '../run/failed-report.js';

/** Make this machine a node of the configured AKS cluster. */
export default class Bootstrap extends SessionCommand {
  static override summary = 'Make this machine a worker node of the configured AKS cluster.';
  static override description =
    'Runs every step in dependency order: check, install when not ok, check again. Safe to re-run: a converged node changes nothing, an interrupted run resumes. Every change is journaled in /var/lib/flexnode so that `flexnode unbootstrap` can restore the machine.';
  static override examples = [
    '<%= config.bin %> bootstrap --config /etc/aks-flex-node/config.json',
    '<%= config.bin %> bootstrap --dry-run --config examples/config.json --root /tmp/sandbox',
  ];
  static override flags = {
    only: onlyFlag,
    'dry-run': Flags.boolean({ summary: 'Print the changes bootstrap would make, without making them (same as `plan`).' }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Bootstrap);
    if (flags['dry-run']) return this.runPlan(flags);
    const report = await this.withSession(flags, 'bootstrap', false, (s) => s.bootstrap());
    if (!this.jsonEnabled()) {
      if (report.recovered) this.log(`! ${report.recovered}`);
      const installed = report.results.filter((r) => r.outcome === 'installed').length;
      const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      // Where the Host's part of it went, the kinds that took 0.1 s or more (they overlap each other and the
      // rest: steps run concurrently).
      const activity = Object.entries(report.activity ?? {})
        .filter(([, a]) => a.ms >= 100)
        .sort((a, b) => b[1].ms - a[1].ms)
        .map(([kind, a]) => `${kind} ${seconds(a.ms)}`);
      const work = `step work ${seconds(report.elapsedMs ?? 0)}${activity.length ? `: ${activity.join(', ')}` : ''}`;
      this.log(
        report.ok
          ? `\nbootstrap: done; ${installed} step(s) changed the machine (${work}).`
          : `\nbootstrap: FAILED (${work}); fix the error above and run it again (it resumes).`,
      );
    }
    if (!report.ok) {
      if (this.jsonEnabled()) this.logJson(failedReport(report, 'bootstrap'));
      // Bad input a step found before changing anything (a kubelet the cluster does not support, a file nothing
      // can verify): exit 2 like a bad config, not 1.
      const failed = report.results.filter((r) => r.outcome === 'failed');
      this.exit(failed.length > 0 && failed.every((r) => r.error?.code === 'CONFIG_INVALID') ? ExitCode.Usage : ExitCode.Failure);
    }
    return report;
  }
}
