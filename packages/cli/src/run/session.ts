import type { LoadedConfig, PlannedChange, RunListener, RunReport, Session } from '@flexnode/core';
import { progressPrinter } from '../render/progress.js';
import type { CommandIo } from './io.js';

const DEFAULT_CONFIG = '/etc/aks-flex-node/config.json';

export interface SessionFlags {
  config?: string;
  root: string;
  only?: string[];
}

/** Load the config named by --config (or the upstream default), printing its warnings. */
export async function loadConfigFor(io: CommandIo, flags: { config?: string }, allowPlaceholders: boolean): Promise<LoadedConfig> {
  const { loadConfig } = await import('@flexnode/core/config');
  const loaded = await loadConfig(flags.config ?? DEFAULT_CONFIG, { allowPlaceholders });
  for (const warning of loaded.warnings) await io.warn(warning);
  return loaded;
}

/** Progress lines on stdout, unless --json asked for one JSON document instead. */
const listener = (io: CommandIo): RunListener | undefined => (io.json ? undefined : progressPrinter());

/**
 * Open a session, run `fn`, and always close it (lock released, staging removed). SIGINT/SIGTERM stop new
 * steps from starting; the step in progress finishes so the journal stays consistent.
 */
export async function withSession<T>(
  io: CommandIo,
  flags: SessionFlags,
  command: string,
  allowPlaceholders: boolean,
  fn: (session: Session) => Promise<T>,
): Promise<T> {
  const [{ Session }, loaded, sources] = await Promise.all([import('@flexnode/core/session'), loadConfigFor(io, flags, allowPlaceholders), io.pluginSources()]);
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const session = await Session.open({
      command,
      config: loaded,
      root: flags.root,
      sources,
      listener: listener(io),
      signal: abort.signal,
      only: flags.only,
    });
    try {
      for (const p of session.view.resolution.problems) await io.warn(`plugin ${p.plugin} left out: ${p.reason}`);
      if (loaded.placeholders.length > 0 && !io.json) {
        io.log(`note: ${loaded.placeholders.length} field(s) still hold placeholders (${loaded.placeholders.join(', ')}); Azure is not contacted for them.`);
      }
      return await fn(session);
    } finally {
      await session.close();
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** The dry run, shared by `plan` and `bootstrap --dry-run`. */
export async function runPlan(io: CommandIo, flags: SessionFlags): Promise<RunReport & { changes: PlannedChange[] }> {
  const report = await withSession(io, flags, 'plan', true, (s) => s.plan());
  if (!io.json) {
    for (const c of report.changes.filter((c) => c.action === 'uninstall')) io.log(`- ${c.target}: ${c.detail}`);
    const toChange = report.results.filter((r) => r.outcome === 'planned').length;
    io.log(`\nplan: ${toChange} of ${report.results.length} step(s) would change the machine; ${report.changes.length} change(s) in all. Nothing was changed.`);
  }
  return { ...report, ok: true };
}
