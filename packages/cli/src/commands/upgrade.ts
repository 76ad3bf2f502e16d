import { Flags } from '@oclif/core';
import { SessionCommand } from '../base/run-command.js';

/** Move the node to a new Kubernetes version (and the config's other pins), drained and verified. */
export default class Upgrade extends SessionCommand {
  static override summary =
    "Move the node to a new Kubernetes version (and the config's pinned containerd, runc, CNI plugins): drained, verified, rolled back on failure.";
  static override description = [
    "The version is --to, else the config's kubernetes.version, else the cluster's (the API server's). Before anything",
    'changes: the version skew policy against the API server (exit 2 naming the rule and both versions), and every',
    "new artifact downloaded and verified. Then: a slot among the cluster's concurrent upgrades (kubernetes.upgrade.",
    'maxConcurrent, Leases flexnode-upgrade-<i>), cordon, drain (PodDisruptionBudgets respected: a drain that cannot',
    "finish puts the node back and names the pods), the components replaced by the steps' own install (the previous",
    'ones kept), restarts, the Node Ready with the new kubelet, uncordon. Any failure after the swap rolls back to the',
    'previous components and exits 1 naming what failed. A killed upgrade is finished or rolled back by the next',
    '`flexnode upgrade`, `bootstrap` or the agent. Nothing to upgrade: exit 0, nothing changed. The node cordons and drains',
    "itself; in kubernetes.auth bootstrap-token mode the slot is taken with the operator's credential (a node's",
    'certificate may hold no Lease but its own).',
  ].join(' ');
  static override examples = ['<%= config.bin %> upgrade --dry-run', '<%= config.bin %> upgrade --to 1.31.2 --json'];
  static override flags = {
    to: Flags.string({ summary: "The Kubernetes version to move to [default: the config's kubernetes.version, else the cluster's]." }),
    'dry-run': Flags.boolean({ summary: 'Plan the upgrade: the versions, the steps that would change and their changes. Nothing is changed.' }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Upgrade);
    const dryRun = flags['dry-run'];
    const report = await this.withSession(flags, 'upgrade', false, (s) => s.upgrade({ to: flags.to, dryRun }));
    if (!this.jsonEnabled()) {
      if (report.recovered) this.log(`! ${report.recovered}`);
      const versions = `${report.from} to ${report.to} (${report.source}; API server ${report.apiServer})`;
      if (report.steps.length === 0) this.log(`\nupgrade: nothing to do: the node runs ${report.from} and every component is as the config asks.`);
      else if (dryRun) {
        for (const c of report.changes ?? []) this.log(`  ${c.step}: ${c.action} ${c.target}${c.detail ? ` ${c.detail}` : ''}`);
        this.log(
          `\nupgrade (dry run): from ${versions}; would change ${report.steps.join(', ')}: after waiting for an upgrade slot, cordon and drain, then restart, wait for Ready, uncordon. Nothing was changed.`,
        );
      } else this.log(`\nupgrade: done, from ${versions}; changed ${report.steps.join(', ')}; the node is back in service.`);
    }
    return report;
  }
}
