import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Arch, Host, Logger } from '@flexnode/sdk';
import type { Journal } from '../state/journal.js';
import { createApt } from './apt.js';
import { createChanges } from './changes.js';
import { Activity } from './activity.js';
import { StepContext, type DownloadSettings, type SharedContext } from './context.js';
import { DPKG_STATUS_FILE } from './dpkg-status.js';
import { closeDownloads, createDownloads } from './downloads.js';
import { createExec, runCommand } from './exec.js';
import { createFiles } from './files.js';
import { HashCache } from './hash-cache.js';
import { createModules } from './modules.js';
import { createNotes } from './notes.js';
import type { PlannedChange } from './plan.js';
import { RootPaths } from '@flexnode/sdk';
import { createSysctl } from './sysctl.js';
import { createSystemd } from './systemd.js';
import { batchedUnitStates } from './unit-activity.js';

export interface RealHostOptions {
  /** `/` on a real node, or a prefix directory every target path is applied under. */
  root: string;
  /** Record mutations in `plan` instead of making them. */
  dryRun: boolean;
  /** The state directory as a target path (`/var/lib/flexnode`); the Host prefixes it with the root. */
  stateDir: string;
  /** Required outside a dry run. In a dry run it may be given (read only) so that a revert can be planned. */
  journal: Journal | undefined;
  log: Logger;
  /** Replaces known secrets in any text that goes to logs or error messages. */
  redact: (s: string) => string;
  /** Base URL of an artifact mirror (`<component>/v<version>/<file>` under it). */
  mirror?: string;
  proxy?: { http?: string; https?: string; noProxy?: string };
  /** Host path of the download cache; default `<root><stateDir>/cache`. */
  downloadCacheDir?: string;
  /** Where a dry run records what it would change. */
  plan?: PlannedChange[];
  /** Default: this machine's architecture. */
  arch?: Arch;
  /** Download tuning (defaults: 30 s idle timeout, 3 retries, 1 s first backoff). */
  download?: Partial<DownloadSettings>;
  /** dpkg's database (default /var/lib/dpkg/status; tests point it elsewhere). */
  dpkgStatusFile?: string;
}

export interface RealHost {
  /** The Host a step sees: its changes are journaled under `stepId`, planned lines tagged with it. */
  forStep(stepId: string, plugin: string): Host;
  /** The dry run's planned changes (the array given in the options, or a new one). */
  readonly plan: PlannedChange[];
  /** Where the run's Host work went: wall time per kind (download, unpack, each command by name). */
  activity(): Record<string, { count: number; ms: number }>;
  /** End of run: remove staging directories and close HTTP connections. */
  dispose(): Promise<void>;
}

/** The real Host: the machine's files, processes, systemd, kernel and network, journaled per step. */
export function createRealHost(options: RealHostOptions): RealHost {
  if (!options.dryRun && !options.journal) throw new Error('createRealHost: a journal is required outside a dry run');
  const paths = new RootPaths(options.root);
  const stateDir = paths.resolve(options.stateDir);
  const plan = options.plan ?? [];
  const shared: SharedContext = {
    paths,
    dryRun: options.dryRun,
    journal: options.journal,
    log: options.log,
    redact: options.redact,
    plan,
    arch: options.arch ?? hostArch(),
    stateDir,
    cacheDir: options.downloadCacheDir ?? join(stateDir, 'cache'),
    mirror: options.mirror,
    proxy: options.proxy,
    download: {
      idleTimeoutMs: envMs('FLEXNODE_DOWNLOAD_IDLE_TIMEOUT_MS') ?? 30_000,
      retries: 3,
      backoffMs: envMs('FLEXNODE_DOWNLOAD_BACKOFF_MS') ?? 1_000,
      ...options.download,
    },
    staging: new Set(),
    inflight: new Map(),
    hashes: new HashCache(join(stateDir, 'hash-cache.json'), !options.dryRun),
    dpkgStatusFile: options.dpkgStatusFile ?? DPKG_STATUS_FILE,
    activity: new Activity(),
    unitState: (unit) => unitState(unit),
  };
  const unitState = batchedUnitStates((units) =>
    runCommand(new StepContext(shared, 'host', 'core'), 'systemctl', ['is-active', ...units], { allowFailure: true, timeoutMs: 90_000 }),
  );
  return {
    plan,
    activity: () => shared.activity.summary(),
    forStep(stepId, plugin) {
      const ctx = new StepContext(shared, stepId, plugin);
      return {
        root: paths.root,
        dryRun: shared.dryRun,
        arch: shared.arch,
        log: ctx.log,
        files: createFiles(ctx),
        exec: createExec(ctx),
        systemd: createSystemd(ctx),
        sysctl: createSysctl(ctx),
        modules: createModules(ctx),
        downloads: createDownloads(ctx),
        apt: createApt(ctx),
        changes: createChanges(ctx),
        notes: createNotes(ctx),
      };
    },
    async dispose() {
      // The state dir may be gone (a completed unbootstrap); the cache is then worthless anyway.
      if (existsSync(stateDir)) await shared.hashes.save().catch((error: Error) => options.log.debug('hash cache not saved', { error: error.message }));
      for (const dir of shared.staging) await fs.rm(dir, { recursive: true, force: true });
      shared.staging.clear();
      // A real run holds the lock: staging dirs of a run killed before its dispose() go too (else never removed).
      if (!options.dryRun) await sweepStaging(join(stateDir, 'staging'));
      await closeDownloads(shared);
    },
  };
}

async function sweepStaging(stagingRoot: string): Promise<void> {
  for (const name of await fs.readdir(stagingRoot).catch(() => [] as string[])) {
    if (name.startsWith('unpack-')) await fs.rm(join(stagingRoot, name), { recursive: true, force: true });
  }
}

/** A download tuning knob from the environment (a positive number of milliseconds), for sites and tests. */
function envMs(name: string): number | undefined {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

function hostArch(): Arch {
  return process.arch === 'arm64' ? 'arm64' : 'amd64';
}
