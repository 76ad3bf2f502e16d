import type { AgentView } from '@flexnode/core';
import { onlyFlag } from '../base/flags.js';
import { SessionCommand } from '../base/run-command.js';

/** Run every check and report whether the node is healthy. */
export default class Status extends SessionCommand {
  static override summary = 'Check every step; exit 0 when the node is healthy, 1 when not.';
  static override description =
    "While `flexnode agent` runs, its view is shown too (last cycle, steps it reports failing, from /var/lib/flexnode/status.json); the exit code is this command's own checks.";

  static override flags = { only: onlyFlag };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Status);
    const report = await this.withSession(flags, 'status', true, (s) => s.status());
    const { readAgentStatus } = await import('@flexnode/core/agent-status');
    const view = await readAgentStatus(flags.root);
    const agent = view?.running ? agentJson(view) : undefined;
    const { problems, configIssues } = report;
    if (!this.jsonEnabled()) {
      if (view?.running) this.log(`\n${agentLines(view).join('\n')}`);
      for (const p of problems) this.log(`! plugin ${p.plugin} is left out: ${p.reason}`);
      const u = report.upgrade;
      if (u) this.log(`! an upgrade from ${u.from} to ${u.to} begun ${u.startedAt} is under way or was interrupted (${u.phase}): the node is out of service; \`flexnode upgrade\` or \`flexnode bootstrap\` finishes or rolls it back`);
      for (const i of configIssues) this.log(`! config ${i.path}: ${i.message}`);
      this.log(report.ok ? '\nstatus: healthy' : '\nstatus: NOT healthy');
    }
    if (!report.ok) {
      if (this.jsonEnabled()) this.logJson({ ...report, healthy: false, agent });
      this.exit(1);
    }
    return { ...report, healthy: true, agent };
  }
}

function agentJson(view: AgentView) {
  const s = view.status;
  return {
    pid: s.pid,
    fresh: view.fresh,
    phase: s.phase,
    startedAt: s.startedAt,
    lastCycle: s.lastCycle,
    cycles: s.cycles,
    healthy: s.healthy,
    lastCycleSkipped: s.lastCycleSkipped,
    upgrade: s.upgrade,
    unhealthy: view.unhealthy.map((id) => ({ id, ...s.steps[id] })),
  };
}

function agentLines(view: AgentView): string[] {
  const s = view.status;
  const lines = [
    `agent: pid ${s.pid}, ${s.phase}${view.fresh ? '' : ' (status file is stale)'}, ${s.cycles} cycle(s), last ${s.lastCycle ?? 'none yet'}: ${s.healthy ? 'healthy' : 'NOT healthy'}`,
  ];
  if (s.lastCycleSkipped) lines.push(`  last cycle skipped: ${s.lastCycleSkipped}`);
  if (s.upgrade?.pending) lines.push(`  upgrade pending: ${s.upgrade.pending}${s.upgrade.lastError ? ` (last try failed: ${s.upgrade.lastError}; next ${s.upgrade.nextAttemptAt})` : ': run `flexnode upgrade`, or set agent.autoUpgrade'}`);
  else if (s.upgrade?.last) lines.push(`  upgraded ${s.upgrade.last} at ${s.upgrade.at}`);
  for (const id of view.unhealthy) {
    const step = s.steps[id]!;
    const retry = step.nextAttemptAt ? `, next try ${step.nextAttemptAt}` : '';
    lines.push(`  ${id}: ${step.state}${step.consecutiveFailures ? ` (${step.consecutiveFailures} failed heal(s)${retry})` : ''}${step.lastError ? `: ${step.lastError}` : step.reason ? `: ${step.reason}` : ''}`);
  }
  return lines;
}
