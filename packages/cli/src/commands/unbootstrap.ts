import { Flags } from '@oclif/core';
import { SessionCommand } from '../base/run-command.js';
import { failedReport } from '../run/failed-report.js';

/** Undo everything bootstrap did, from the journal. */
export default class Unbootstrap extends SessionCommand {
  static override summary = 'Remove everything flexnode put on this machine and restore what it replaced.';
  static override description =
    "Uninstalls the journaled steps newest first. The node is first taken out of the cluster: cordoned and drained through the Eviction API (PodDisruptionBudgets respected; DaemonSet and mirror pods stay until the node stops), then the kubelet stops, its pod containers and sandboxes are removed from containerd, the pods' bridge and NAT chains go, what is mounted under the kubelet directory is unmounted, and the Node is deleted. Then services are stopped and disabled, files restored to their previous content or removed, sysctls put back, Azure resources flexnode created deleted. What flexnode did not install is left alone. Exits non-zero if any step could not be undone (a drain that times out names the pods that block; the node stays cordoned); running it again continues.";

  static override flags = {
    'dry-run': Flags.boolean({
      summary:
        "Print what unbootstrap would undo, from the journal, without undoing it: each step's files, units, sysctls and packages, and the records (Azure resources, the Node) its own uninstall removes.",
    }),
    force: Flags.boolean({
      summary:
        'Go on when the node cannot be drained: pods whose PodDisruptionBudget refuses the eviction, or an API server that cannot be reached; those pods stop with the node.',
    }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Unbootstrap);
    if (flags['dry-run']) return this.preview(flags);
    const report = await this.withSession(flags, 'unbootstrap', false, (s) => s.unbootstrap());
    if (!this.jsonEnabled()) {
      this.log(
        report.ok ? `\nunbootstrap: done; ${report.results.length} step(s) removed.` : '\nunbootstrap: FAILED for the step(s) above; run it again to retry.',
      );
    }
    if (!report.ok) {
      if (this.jsonEnabled()) this.logJson(failedReport(report, 'unbootstrap'));
      this.exit(1);
    }
    return report;
  }

  /** unbootstrap --dry-run: the journal's account of what would be undone; nothing is changed or locked. */
  private async preview(flags: { config?: string; root: string }): Promise<unknown> {
    const steps = await this.withSession(flags, 'unbootstrap', true, (s) => s.unbootstrapPlan());
    if (!this.jsonEnabled()) {
      for (const step of steps) {
        this.log(`${step.id}  [${step.plugin}]${step.status === 'installed' ? '' : ` (${step.status})`}`);
        for (const u of step.undo) this.log(`    ${u.action} ${u.target}${u.detail ? ` ${u.detail}` : ''}`);
      }
      const changes = steps.reduce((n, s) => n + s.undo.length, 0);
      this.log(
        steps.length
          ? `\nunbootstrap (dry run): ${steps.length} step(s) to undo, ${changes} journaled change(s); each step's own uninstall also runs (the node drained and its Node deleted, Azure resources flexnode created deleted). Nothing was changed.`
          : '\nunbootstrap (dry run): the journal holds nothing: there is nothing to undo.',
      );
    }
    return { steps };
  }
}
