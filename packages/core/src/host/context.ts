import type { Arch, Change, Logger, LogFields } from '@flexnode/sdk';
import type { Journal } from '../state/journal.js';
import type { Activity } from './activity.js';
import type { HashCache } from './hash-cache.js';
import type { PlannedChange } from './plan.js';
import type { RootPaths } from '@flexnode/sdk';

/** Download tuning; the defaults suit production, tests shorten them. */
export interface DownloadSettings {
  /** Abort when no byte arrives for this long (headers or body). Default 30 s. */
  idleTimeoutMs: number;
  /** Retries of a transient failure (reset, 5xx, timeout, truncation). Default 3. */
  retries: number;
  /** First backoff delay, doubled each retry. Default 1 s. */
  backoffMs: number;
}

/** What every part of one real Host run shares: options, the journal, the plan, in-flight work. */
export interface SharedContext {
  readonly paths: RootPaths;
  readonly dryRun: boolean;
  readonly journal: Journal | undefined;
  readonly log: Logger;
  readonly redact: (s: string) => string;
  readonly plan: PlannedChange[];
  readonly arch: Arch;
  /** The state directory on this host (root-prefixed). */
  readonly stateDir: string;
  /** The download cache on this host (root-prefixed). */
  readonly cacheDir: string;
  readonly mirror: string | undefined;
  readonly proxy: { http?: string; https?: string; noProxy?: string } | undefined;
  readonly download: DownloadSettings;
  /** Staging directories made by unpack, removed by dispose(). */
  readonly staging: Set<string>;
  /** Downloads in flight by sha256: concurrent fetches of one artifact share one transfer. */
  readonly inflight: Map<string, Promise<string>>;
  /** File hashes remembered by stat identity. */
  readonly hashes: HashCache;
  /** dpkg's database on this host (packages, like commands, are this host's even under a sandbox root). */
  readonly dpkgStatusFile: string;
  /** Wall time per kind of work (download, unpack, each command by name), reported with the run. */
  readonly activity: Activity;
  /** A unit's `systemctl is-active` state; queries made together share one systemctl (unit-activity.ts). */
  readonly unitState: (unit: string) => Promise<string>;
}

/** The shared context seen from one step: its journal entries, its plan lines, its log. */
export class StepContext {
  readonly log: Logger;

  constructor(
    readonly shared: SharedContext,
    readonly step: string,
    readonly plugin: string,
  ) {
    const { log, redact } = shared;
    const tag = (fields?: LogFields): LogFields => ({ step, ...fields });
    this.log = {
      debug: (message, fields) => log.debug(redact(message), tag(fields)),
      info: (message, fields) => log.info(redact(message), tag(fields)),
      warn: (message, fields) => log.warn(redact(message), tag(fields)),
      error: (message, fields) => log.error(redact(message), tag(fields)),
    };
  }

  get dryRun(): boolean {
    return this.shared.dryRun;
  }

  get paths(): RootPaths {
    return this.shared.paths;
  }

  /** Record a change a dry run would make. */
  planned(action: string, target: string, detail?: string): void {
    this.shared.plan.push({ step: this.step, action, target, ...(detail ? { detail } : {}) });
    this.log.info(`would ${action} ${target}${detail ? ` ${detail}` : ''}`);
  }

  /**
   * Journal a change BEFORE making it (write-ahead). A change this step already journaled for the same object is
   * not journaled again: a run killed between journaling and acting journals it once more when it resumes, and
   * the first entry holds the state to restore.
   */
  async journal(change: Change): Promise<void> {
    const journal = this.shared.journal;
    if (!journal) throw new Error('internal: a mutation outside a dry run needs a journal');
    if (journaledAlready(this.changes(), change)) return;
    await journal.append(this.step, change, { plugin: this.plugin });
  }

  /** This step's journaled changes, oldest first. */
  changes(): readonly Change[] {
    return this.shared.journal?.get(this.step)?.changes ?? [];
  }

  /** Whether this step already journaled the before-state of a path (only the first touch records it). */
  touched(path: string): boolean {
    return this.changes().some((c) => c.kind === 'file' && c.path === path);
  }
}

/**
 * Whether `change` repeats one in `changes`: the same sysctl key, module or package; for a unit, when the unit's
 * latest change is of the same kind (enable after disable is a new change: revert replays both in reverse).
 */
function journaledAlready(changes: readonly Change[], change: Change): boolean {
  switch (change.kind) {
    case 'sysctl':
      return changes.some((c) => c.kind === 'sysctl' && c.key === change.key);
    case 'module':
    case 'package':
      return changes.some((c) => c.kind === change.kind && c.name === change.name);
    case 'unit-enabled':
    case 'unit-disabled':
    case 'unit-started':
    case 'unit-stopped': {
      const last = [...changes].reverse().find((c) => c.kind.startsWith('unit-') && (c as { unit: string }).unit === change.unit);
      return last?.kind === change.kind;
    }
    default:
      return false;
  }
}
