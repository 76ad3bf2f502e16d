import type { LoadedConfig, PlannedChange, RunListener, RunReport, Session } from '@flexnode/core';
import { progressPrinter } from '../render/progress.js';
import { failedReport } from './failed-report.js';
import { Interruption } from './interruption.js';
import type { CommandIo } from './io.js';

const DEFAULT_CONFIG = '/etc/aks-flex-node/config.json';

export interface SessionFlags {
  config?: string;
  root: string;
  only?: string[];
  verbose?: boolean;
  /** unbootstrap's --force: go on past a drain that cannot finish (given to steps as `Tokens.Run`). */
  force?: boolean;
}

/** What an unusable operator secret means for a command: refused, or a warning where the run needs no secret. */
export type CredentialUse = 'refuse' | 'warn';

/** Load the config named by --config (or the upstream default), printing its warnings. */
export async function loadConfigFor(
  io: CommandIo,
  flags: { config?: string; root?: string },
  allowPlaceholders: boolean,
  credential: CredentialUse = 'refuse',
): Promise<LoadedConfig> {
  const { loadConfig } = await import('@flexnode/core/config');
  const loaded = await loadConfig(flags.config ?? DEFAULT_CONFIG, { allowPlaceholders, root: flags.root, credential, memoDir: io.cacheDir });
  for (const warning of loaded.warnings) await io.warn(warning);
  return loaded;
}

/** Progress lines on stdout, unless --json asked for one JSON document instead. */
const listener = (io: CommandIo): RunListener | undefined => (io.json ? undefined : progressPrinter());

/**
 * Open a session, run `fn`, and always close it (lock released, staging removed). SIGINT/SIGTERM, from the config's
 * loading on, stop new steps from starting; the step in progress finishes so the journal stays consistent; then the
 * command says which step was interrupted and exits 1 (dry runs included). The next run resumes. A second signal
 * stops at once (the journal is write-ahead; the lock is taken over next time).
 */
export async function withSession<T>(
  io: CommandIo,
  flags: SessionFlags,
  command: string,
  allowPlaceholders: boolean,
  fn: (session: Session) => Promise<T>,
): Promise<T> {
  const abort = new AbortController();
  const interruption = new Interruption(command, abort, (line) => io.logToStderr(line));
  process.on('SIGINT', interruption.handle);
  process.on('SIGTERM', interruption.handle);
  let session: Session | undefined;
  try {
    interruption.phase = 'loading the config';
    // status, unbootstrap and upgrade must work on a node whose secret is gone (an arc-msi upgrade needs only the
    // node's own identity and the records; what needs the operator says so): for them an unusable secret is a warning.
    const credential = ['status', 'unbootstrap', 'upgrade'].includes(command) ? 'warn' : 'refuse';
    const [{ Session }, loaded, sources] = await Promise.all([
      import('@flexnode/core/session'),
      loadConfigFor(io, flags, allowPlaceholders, credential),
      io.pluginSources(),
    ]);
    interruption.check();
    interruption.phase = 'resolving the plugins';
    const printer = listener(io);
    session = await Session.open({
      command,
      config: loaded,
      root: flags.root,
      sources,
      listener: (event) => {
        interruption.track(event);
        printer?.(event);
      },
      signal: abort.signal,
      only: flags.only,
      verbose: flags.verbose,
      force: flags.force,
    });
    interruption.check();
    interruption.phase = 'the run, between steps';
    const resolution = session.view.resolution;
    for (const p of resolution.problems) await io.warn(`plugin ${p.plugin} left out: ${p.reason}${p.fix ? ` (fix: ${p.fix})` : ''}`);
    for (const i of resolution.configIssues) await io.warn(`config ${i.path}: ${i.message}`);
    for (const w of resolution.warnings) await io.warn(`plugin ${w.plugin}: ${w.message}`);
    if (loaded.placeholders.length > 0 && !io.json) {
      io.log(`note: ${loaded.placeholders.length} field(s) still hold placeholders (${loaded.placeholders.join(', ')}); Azure is not contacted for them.`);
    }
    const result = await fn(session);
    interruption.check(result);
    return result;
  } finally {
    process.off('SIGINT', interruption.handle);
    process.off('SIGTERM', interruption.handle);
    await session?.close();
  }
}

/**
 * The dry run, shared by `plan` and `bootstrap --dry-run`. Exits 1 when a step cannot be created or checked, or a
 * preflight fails: bootstrap would stop there.
 */
export async function runPlan(io: CommandIo, flags: SessionFlags): Promise<RunReport & { changes: PlannedChange[]; incomplete: string[] }> {
  const run = await withSession(io, flags, 'plan', true, (s) => s.plan());
  const failed = run.results.filter((r) => r.outcome === 'failed');
  // Planned, but its planning stopped on an error (no credential here, an unreachable host): a bootstrap stops there
  // too unless what it lacked is there by then. Not a failure of the plan (a plan is often made where the operator's
  // credential is not), but never silent: --json lists them in `incomplete`.
  const incomplete = run.results.filter((r) => r.outcome === 'planned' && r.error).map((r) => r.id);
  const report = { ...run, incomplete };
  if (!io.json) {
    for (const c of report.changes.filter((c) => c.action === 'uninstall')) io.log(`- ${c.target}: ${c.detail}`);
    const toChange = report.results.filter((r) => r.outcome === 'planned').length;
    io.log(`\nplan: ${toChange} of ${report.results.length} step(s) would change the machine; ${report.changes.length} change(s) in all. Nothing was changed.`);
    if (incomplete.length)
      io.log(
        `plan: ${incomplete.length} step(s) could not be planned to the end (${incomplete.join(', ')}): a bootstrap stops at their errors above unless what they lack is there by then.`,
      );
    if (failed.length) io.log(`plan: ${failed.length} step(s) FAILED (${failed.map((r) => r.id).join(', ')}): bootstrap would stop there; fix them first.`);
  }
  if (!report.ok) {
    if (io.json) io.logJson(failedReport(report, 'plan'));
    io.exit(1);
  }
  return report;
}
