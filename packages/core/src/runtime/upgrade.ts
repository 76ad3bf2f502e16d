import { ConfigError, ExitCode, FlexnodeError, type FlexnodeConfig, type Host, type NodeMaintenanceService } from '@flexnode/sdk';
import type { RunLogger } from '../logging/index.js';
import { changesSince, readCheckpoint, restoreFiles, takeCheckpoint, type Checkpoint } from '../state/checkpoint.js';
import type { Journal } from '../state/journal.js';
import { clearUpgradeState, readUpgradeState, writeUpgradeState, type UpgradeState } from '../state/upgrade-state.js';
import type { PlannedChange, StepResult } from './events.js';
import type { RunReport } from './executor.js';

/** What an upgrade needs of the session it runs in (it holds the lock; the journal is open). */
export interface UpgradeContext {
  root: string;
  /** The state directory on this host (root-prefixed). */
  stateDir: string;
  /** The journal, open under the lock (undefined only in a dry run of a machine flexnode never touched). */
  journal: Journal | undefined;
  log: RunLogger;
  config: FlexnodeConfig;
  /** The kubelet provider's maintenance service, for a run under `config`. */
  maintenance(config: FlexnodeConfig): NodeMaintenanceService;
  /** Every check under `config`, and the installs planned for the steps that are not ok (a dry run). */
  plan(config: FlexnodeConfig): Promise<RunReport & { changes: PlannedChange[] }>;
  /** Download and verify what these steps download under `config` (into the Host's cache). */
  prefetch(config: FlexnodeConfig, stepIds: readonly string[]): Promise<void>;
  /** Converge every step under `config` (bootstrap's run). */
  converge(config: FlexnodeConfig): Promise<RunReport>;
  /** These steps and the steps that depend on them, in run order. */
  withDependents(stepIds: readonly string[]): string[];
  /** The real Host of a step (journaled under its id). */
  hostFor(stepId: string, plugin: string): Host;
}

export interface UpgradeOptions {
  /** `--to`: the Kubernetes version (default: the config's pin, else the cluster's). */
  to?: string;
  dryRun?: boolean;
}

export interface UpgradeReport {
  ok: boolean;
  /** The node now runs other components than before. */
  changed: boolean;
  from: string;
  to: string;
  source: string;
  apiServer: string;
  /** The steps the upgrade changed (in a dry run: would change). */
  steps: string[];
  results: StepResult[];
  /** A dry run's planned changes. */
  changes?: PlannedChange[];
  /** An interrupted upgrade this run found first, and what became of it. */
  recovered?: string;
}

/** Config sections of the plan replace those of the config (the plan gives whole sections, e.g. `kubernetes`). */
const withOverrides = (config: FlexnodeConfig, overrides: Partial<FlexnodeConfig>): FlexnodeConfig => ({ ...config, ...overrides });

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * `flexnode upgrade`: move the node to the version the kubelet's provider plans (`--to`, the config's pin, the
 * cluster's), and the config's other pins (containerd, runc, CNI) with it, through the steps' own install code:
 *
 * 1. an interrupted upgrade is finished or rolled back first;
 * 2. the plan is checked against the cluster (skew policy: exit 2, nothing changed) and every step is checked
 *    under the new config: the steps that would change, and nothing else, are the upgrade; none, nothing to do;
 * 3. their artifacts are downloaded and verified before anything changes;
 * 4. the node is taken out of service (a slot among the cluster's concurrent upgrades, cordon, drain); a drain
 *    that cannot finish puts it back and fails, naming the pods;
 * 5. the files of those steps and their dependents are checkpointed (write-ahead state: a killed run is rolled
 *    back by the next one), then every step converges under the new config (the swap, the restarts);
 * 6. the node must come back Ready with the new kubelet; else everything is rolled back (files and journal
 *    records restored, units restarted) and the node put back in service: exit 1 naming what failed;
 * 7. uncordon, the slot released.
 */
export async function runUpgrade(ctx: UpgradeContext, options: UpgradeOptions): Promise<UpgradeReport> {
  const recovered = options.dryRun ? undefined : await recoverUpgrade(ctx);
  const service = ctx.maintenance(ctx.config);
  const plan = await service.upgradePlan(options.to);
  const target = withOverrides(ctx.config, plan.config);
  const planned = await ctx.plan(target);
  const failed = planned.results.filter((r) => r.outcome === 'failed');
  if (failed.length > 0) {
    const what = failed.map((r) => `${r.id}: ${r.error?.message ?? 'failed'}`).join('; ');
    if (failed.every((r) => r.error?.code === 'CONFIG_INVALID'))
      throw new ConfigError(`the upgrade to ${plan.to} cannot start: ${what}`, [], 'nothing was changed');
    throw new FlexnodeError('UPGRADE_NOT_STARTED', `the upgrade to ${plan.to} cannot start: ${what}`, {
      hint: 'nothing was changed; fix that and run `flexnode upgrade` again',
    });
  }
  const steps = planned.results.filter((r) => r.outcome === 'planned').map((r) => r.id);
  const base = { from: plan.from, to: plan.to, source: plan.source, apiServer: plan.apiServer, steps, ...(recovered ? { recovered } : {}) };
  if (steps.length === 0) {
    ctx.log.info(`nothing to upgrade: the node runs ${plan.from} and every component is as the config asks`);
    return { ok: true, changed: false, ...base, results: planned.results };
  }
  if (options.dryRun) return { ok: true, changed: false, ...base, results: planned.results, changes: planned.changes };

  const journal = ctx.journal!;
  ctx.log.info(`upgrading from ${plan.from} to ${plan.to} (${plan.source}); steps: ${steps.join(', ')}`);
  await ctx.prefetch(target, steps);
  const covered = ctx.withDependents(steps);
  let state: UpgradeState = { version: 1, from: plan.from, to: plan.to, phase: 'draining', startedAt: new Date().toISOString(), steps: covered };
  await writeUpgradeState(ctx.stateDir, state);
  try {
    await service.begin(); // on failure the node is back in service
  } catch (error) {
    await clearUpgradeState(ctx.stateDir);
    throw error;
  }
  const checkpoint = await takeCheckpoint(journal, covered, ctx.root, ctx.stateDir);
  await writeUpgradeState(ctx.stateDir, (state = { ...state, phase: 'swapping' }));

  let failure: string | undefined;
  let report: RunReport | undefined;
  try {
    report = await ctx.converge(target);
    const broken = report.results.filter((r) => r.outcome === 'failed' || r.outcome === 'skipped');
    if (!report.ok) failure = broken.map((r) => `${r.id} ${r.outcome}${r.error ? `: ${r.error.message}` : ''}`).join('; ') || 'the run did not finish';
    else await service.waitReady(plan.to);
  } catch (error) {
    failure ??= messageOf(error);
  }
  if (failure) {
    await rollback(ctx, state, checkpoint, failure, service);
    throw new FlexnodeError(
      'UPGRADE_FAILED',
      `the upgrade from ${plan.from} to ${plan.to} failed: ${failure}; rolled back to ${plan.from}, the node is back in service`,
      {
        exitCode: ExitCode.Failure,
        hint: 'see the log of the step named (and `journalctl -u kubelet.service`); the node runs the previous components again',
      },
    );
  }
  await writeUpgradeState(ctx.stateDir, { ...state, phase: 'verified' });
  await service.end();
  await clearUpgradeState(ctx.stateDir);
  ctx.log.info(`upgraded from ${plan.from} to ${plan.to}`);
  return { ok: true, changed: true, ...base, results: report!.results };
}

/**
 * Finish or roll back an upgrade a killed run left (its state file says how far it got): not yet swapping, the
 * node is put back in service; swapping or rolling back, the checkpoint is restored; verified, only putting it
 * back is left. Returns what was done, or undefined when there was nothing to do.
 */
export async function recoverUpgrade(ctx: UpgradeContext): Promise<string | undefined> {
  const state = await readUpgradeState(ctx.stateDir);
  if (!state) return undefined;
  const service = ctx.maintenance(ctx.config);
  const checkpoint = state.phase === 'swapping' || state.phase === 'rolling-back' ? await readCheckpoint(ctx.stateDir) : undefined;
  let done: string;
  if (checkpoint) {
    await rollback(
      ctx,
      state,
      checkpoint,
      state.reason ?? `the run was interrupted while ${state.phase === 'swapping' ? 'replacing the components' : 'rolling back'}`,
      service,
    );
    done = `rolled back to ${state.from}`;
  } else {
    await service.end();
    await clearUpgradeState(ctx.stateDir);
    done = state.phase === 'verified' ? `it had finished: the node runs ${state.to}` : `nothing had been replaced: the node runs ${state.from}`;
  }
  const message = `an upgrade from ${state.from} to ${state.to} begun ${state.startedAt} was interrupted (${state.phase}): ${done}, and the node is back in service`;
  ctx.log.warn(message);
  return message;
}

/** Put back what the checkpoint holds, restart what flexnode runs of those steps, and the node back in service. */
async function rollback(ctx: UpgradeContext, state: UpgradeState, checkpoint: Checkpoint, reason: string, service: NodeMaintenanceService): Promise<void> {
  const journal = ctx.journal!;
  ctx.log.error(`rolling back to ${state.from}: ${reason}`);
  await writeUpgradeState(ctx.stateDir, { ...state, phase: 'rolling-back', reason });
  const plugins = new Map(state.steps.map((id) => [id, journal.get(id)?.plugin ?? checkpoint.steps[id]?.plugin ?? 'unknown']));
  // What the new run journaled beyond the checkpoint (files it created, units it enabled): undone by the Host,
  // newest step first; what the checkpoint holds is copied back; then the steps' records are as they were.
  for (const id of [...state.steps].reverse()) {
    const before = checkpoint.steps[id] ?? null;
    const now = journal.get(id);
    const added = changesSince(before, now);
    if (added.length === 0 || !now) continue;
    await journal.restore(id, { ...now, changes: added });
    await ctx.hostFor(id, plugins.get(id)!).changes.revert();
  }
  await restoreFiles(checkpoint, ctx.root);
  for (const id of state.steps) await journal.restore(id, checkpoint.steps[id] ?? undefined);
  // The services of those steps run the restored files only once restarted (in run order: the runtime first).
  let reloaded = false;
  for (const id of state.steps) {
    for (const change of checkpoint.steps[id]?.changes ?? []) {
      if (change.kind !== 'unit-started') continue;
      const host = ctx.hostFor(id, plugins.get(id)!);
      if (!(await host.systemd.available())) continue;
      if (!reloaded) await host.systemd.daemonReload();
      reloaded = true;
      await host.systemd.restart(change.unit).catch((error: unknown) => ctx.log.error(`restarting ${change.unit} failed`, { error: messageOf(error) }));
    }
  }
  try {
    await service.waitReady(state.from);
  } catch (error) {
    ctx.log.error(`after the rollback the node is not back yet: ${messageOf(error)}`);
  }
  await service.end();
  await clearUpgradeState(ctx.stateDir);
}
