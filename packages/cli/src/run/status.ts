import type { AgentView } from '@flexnode/core';
import { failedReport } from './failed-report.js';
import type { CommandIo } from './io.js';
import { commonFlagSpecs, onlyFlagSpec, verboseFlagSpec } from './flags.js';
import { withSession, type SessionFlags } from './session.js';

export const statusCommand = {
  summary: 'Check every step; exit 0 when the node is healthy, 1 when not.',
  description:
    "While `flexnode agent` runs, its view is shown too (last cycle, steps it reports failing, from /var/lib/flexnode/status.json); the exit code is this command's own checks.",
  flags: { ...commonFlagSpecs, only: onlyFlagSpec, verbose: verboseFlagSpec },
};

/** `flexnode status`: run every check and report whether the node is healthy (exit 1 when not). */
export async function status(io: CommandIo, flags: SessionFlags): Promise<unknown> {
  const [report, view] = await Promise.all([
    withSession(io, flags, 'status', true, (s) => s.status()),
    import('@flexnode/core/agent-status').then(({ readAgentStatus }) => readAgentStatus(flags.root)),
  ]);
  const agent = view?.running ? agentJson(view) : undefined;
  const { problems, configIssues } = report;
  if (!io.json) {
    if (view?.running) io.log(`\n${agentLines(view).join('\n')}`);
    for (const p of problems) io.log(`! plugin ${p.plugin} is left out: ${p.reason}`);
    const u = report.upgrade;
    if (u)
      io.log(
        `! an upgrade from ${u.from} to ${u.to} begun ${u.startedAt} is under way or was interrupted (${u.phase}): the node is out of service; \`flexnode upgrade\` or \`flexnode bootstrap\` finishes or rolls it back`,
      );
    for (const i of configIssues) io.log(`! config ${i.path}: ${i.message}`);
    io.log(report.ok ? '\nstatus: healthy' : '\nstatus: NOT healthy');
  }
  if (!report.ok) {
    if (io.json) io.logJson({ ...failedReport(report, 'status'), healthy: false, agent });
    io.exit(1);
  }
  return { ...report, healthy: true, agent };
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
  if (s.upgrade?.pending)
    lines.push(
      `  upgrade pending: ${s.upgrade.pending}${s.upgrade.lastError ? ` (last try failed: ${s.upgrade.lastError}; next ${s.upgrade.nextAttemptAt})` : ': run `flexnode upgrade`, or set agent.autoUpgrade'}`,
    );
  else if (s.upgrade?.last) lines.push(`  upgraded ${s.upgrade.last} at ${s.upgrade.at}`);
  for (const id of view.unhealthy) {
    const step = s.steps[id]!;
    const retry = step.nextAttemptAt ? `, next try ${step.nextAttemptAt}` : '';
    lines.push(
      `  ${id}: ${step.state}${step.consecutiveFailures ? ` (${step.consecutiveFailures} failed heal(s)${retry})` : ''}${step.lastError ? `: ${step.lastError}` : step.reason ? `: ${step.reason}` : ''}`,
    );
  }
  return lines;
}
