import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Change } from '@flexnode/sdk';
import { FlexnodeError } from '@flexnode/sdk';
import { isTempFile, writeFileAtomic } from './atomic-write.js';
import { BackupStore } from './backups.js';
import { crashPoint } from './crash-hook.js';

export type StepStatus = 'installing' | 'installed' | 'uninstalling' | 'failed';

/** What the journal knows about one step. */
export interface StepRecord {
  plugin: string;
  status: StepStatus;
  /** Oldest first. */
  changes: Change[];
  /** ISO timestamp of the last mutation. */
  updatedAt: string;
  error?: string;
}

/** The file format of `<stateDir>/journal.json`. */
export interface JournalData {
  version: 1;
  steps: Record<string, StepRecord>;
  /** Step ids in the order they were first installed. */
  order: string[];
}

const STATUSES: readonly StepStatus[] = ['installing', 'installed', 'uninstalling', 'failed'];

/**
 * The write-ahead journal of every change flexnode made, per step. Every mutation is persisted atomically before
 * the promise resolves, and callers append a change BEFORE applying it: a run killed at any instant leaves a
 * journal that names everything that might have been done (nodeadm saved its tracker only at the end, so a crash
 * left nothing to undo). Records returned by {@link get} and {@link entries} are live views: do not mutate them.
 */
export class Journal {
  readonly path: string;
  readonly backupDir: string;
  readonly backups: BackupStore;
  private writes: Promise<void> = Promise.resolve();
  /** The write waiting for its turn, not yet serialised: new mutations ride along with it. */
  private queued: Promise<void> | undefined;

  private constructor(
    readonly stateDir: string,
    private readonly data: JournalData,
  ) {
    this.path = join(stateDir, 'journal.json');
    this.backupDir = join(stateDir, 'backups');
    this.backups = new BackupStore(this.backupDir);
  }

  /** Load `<stateDir>/journal.json` (an empty journal when absent). A corrupt file is an error, never reset. */
  static async open(stateDir: string): Promise<Journal> {
    await fs.mkdir(stateDir, { recursive: true, mode: 0o700 });
    const path = join(stateDir, 'journal.json');
    // Temp files of a process killed mid-write are garbage: the journal itself is whole (rename is atomic).
    for (const name of await fs.readdir(stateDir)) {
      if (isTempFile(name)) await fs.rm(join(stateDir, name), { force: true });
    }
    let text: string | undefined;
    try {
      text = await fs.readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const data = text === undefined ? { version: 1 as const, steps: {}, order: [] } : parse(path, text);
    return new Journal(stateDir, data);
  }

  /**
   * The journal as it is on disk, read-only (no directory created, no temp file swept): for readers that do not
   * hold the lock, such as `flexnode status`, while a run may be writing. Undefined when there is none.
   */
  static async read(stateDir: string): Promise<Journal | undefined> {
    const path = join(stateDir, 'journal.json');
    let text: string;
    try {
      text = await fs.readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return new Journal(stateDir, parse(path, text));
  }

  get(stepId: string): StepRecord | undefined {
    return this.data.steps[stepId];
  }

  /** Every step, in the order they were first installed. */
  entries(): [string, StepRecord][] {
    return this.data.order.filter((id) => this.data.steps[id]).map((id) => [id, this.data.steps[id]!]);
  }

  /** Set a step's status (creating its record on first use); `error` is kept only with status `failed`. */
  async setStatus(stepId: string, status: StepStatus, options: { plugin?: string; error?: string } = {}): Promise<void> {
    const record = this.ensure(stepId, options.plugin);
    record.status = status;
    if (options.plugin) record.plugin = options.plugin;
    if (options.error !== undefined) record.error = options.error;
    else if (status !== 'failed') delete record.error;
    await this.touch(record);
  }

  /** Journal a change (call it BEFORE making the change). Creates the step's record if needed. */
  async append(stepId: string, change: Change, options: { plugin?: string } = {}): Promise<void> {
    const record = this.ensure(stepId, options.plugin);
    record.changes.push(change);
    await this.touch(record);
  }

  /**
   * Journal a change as a step's oldest, so its revert comes after all of the step's others: a directory handed over
   * by a step that made it but is uninstalled before this one, which still has files in it.
   */
  async prependChange(stepId: string, change: Change): Promise<void> {
    const record = this.data.steps[stepId];
    if (!record) return;
    record.changes.unshift(change);
    await this.touch(record);
  }

  /** Remove the changes of a step the predicate selects (call it AFTER undoing them). Returns how many. */
  async removeChanges(stepId: string, predicate: (change: Change, index: number) => boolean): Promise<number> {
    const record = this.data.steps[stepId];
    if (!record) return 0;
    const kept = record.changes.filter((c, i) => !predicate(c, i));
    const removed = record.changes.length - kept.length;
    if (removed === 0) return 0;
    record.changes = kept;
    await this.touch(record);
    return removed;
  }

  /**
   * Put a step's record back as it was (an upgrade's rollback), or drop it when it had none. Its place in the
   * install order is kept, or it goes last when it had none.
   */
  async restore(stepId: string, record: StepRecord | undefined): Promise<void> {
    if (!record) return this.drop(stepId);
    this.data.steps[stepId] = structuredClone(record);
    if (!this.data.order.includes(stepId)) this.data.order.push(stepId);
    await this.persist();
  }

  /** Forget a step entirely (after a complete uninstall). */
  async drop(stepId: string): Promise<void> {
    if (!this.data.steps[stepId]) return;
    delete this.data.steps[stepId];
    this.data.order = this.data.order.filter((id) => id !== stepId);
    await this.persist();
  }

  private ensure(stepId: string, plugin: string | undefined): StepRecord {
    let record = this.data.steps[stepId];
    if (!record) {
      record = { plugin: plugin ?? 'unknown', status: 'installing', changes: [], updatedAt: new Date().toISOString() };
      this.data.steps[stepId] = record;
      this.data.order.push(stepId);
    }
    return record;
  }

  private async touch(record: StepRecord): Promise<void> {
    record.updatedAt = new Date().toISOString();
    await this.persist();
  }

  /**
   * Serialise writes: each waits for the previous one, then writes the state as it is then (which includes every
   * mutation made so far), so concurrent steps never interleave two renames of stale snapshots. Mutations made
   * while a write waits its turn share that write (group commit): steps starting together pay one fsync, not one
   * each, and every caller still resumes only once a file holding its mutation is on disk.
   */
  private persist(): Promise<void> {
    if (this.queued) return this.queued;
    const write = this.writes.then(() => {
      this.queued = undefined; // the snapshot is taken now: a later mutation needs the next write
      return writeFileAtomic(this.path, `${JSON.stringify(this.data, null, 2)}\n`, {
        mode: 0o600,
        beforeRename: () => crashPoint('journal:before-rename'),
        afterRename: () => crashPoint('journal:after-rename'),
      });
    });
    this.queued = write;
    // A failed write must not wedge later ones; the callers of this one still see its error.
    this.writes = write.catch(() => undefined);
    return write;
  }
}

function parse(path: string, text: string): JournalData {
  const corrupt = (why: string, cause?: unknown) =>
    new FlexnodeError('JOURNAL_CORRUPT', `the state journal ${path} is corrupt: ${why}`, {
      hint: `flexnode never resets it silently, since it records what to undo; inspect it, or move it away to start over (changes it recorded will then not be undone)`,
      cause,
    });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw corrupt(`not valid JSON (${(error as Error).message})`, error);
  }
  if (typeof raw !== 'object' || raw === null) throw corrupt('not a JSON object');
  const data = raw as Partial<JournalData>;
  if (data.version !== 1) throw corrupt(`unknown version ${JSON.stringify(data.version)} (expected 1)`);
  if (typeof data.steps !== 'object' || data.steps === null || Array.isArray(data.steps)) throw corrupt('"steps" is not an object');
  if (!Array.isArray(data.order) || !data.order.every((id) => typeof id === 'string')) throw corrupt('"order" is not a list of step ids');
  for (const [id, record] of Object.entries(data.steps)) {
    if (!record || !STATUSES.includes(record.status) || !Array.isArray(record.changes) || typeof record.plugin !== 'string') {
      throw corrupt(`the record of step ${JSON.stringify(id)} is malformed`);
    }
    if (!data.order.includes(id)) data.order.push(id);
  }
  return data as JournalData;
}
