import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Change } from '@flexnode/sdk';
import { canonicalJson, RootPaths } from '@flexnode/sdk';
import { tempPathFor, writeFileAtomic } from './atomic-write.js';
import type { Journal, StepRecord } from './journal.js';
import { upgradeDir } from './upgrade-state.js';

/**
 * What an upgrade may replace, kept so that it can be put back: the journal records of the steps it may change,
 * and the current content of every file those records say flexnode wrote (a hard link where the filesystem
 * allows, since the Host replaces files by rename and never writes into them: the old inode stays as it was).
 */
export interface Checkpoint {
  steps: Record<string, StepRecord | null>;
  files: { path: string; copy?: string; mode: number; uid: number; gid: number }[];
}

const file = (stateDir: string) => join(upgradeDir(stateDir), 'checkpoint.json');

export async function takeCheckpoint(journal: Journal, stepIds: readonly string[], root: string, stateDir: string): Promise<Checkpoint> {
  const paths = new RootPaths(root);
  const dir = join(upgradeDir(stateDir), 'previous');
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const checkpoint: Checkpoint = { steps: {}, files: [] };
  const seen = new Set<string>();
  for (const id of stepIds) {
    const record = journal.get(id);
    checkpoint.steps[id] = record ? structuredClone(record) : null;
    for (const change of record?.changes ?? []) {
      if (change.kind !== 'file' || seen.has(change.path)) continue;
      seen.add(change.path);
      const at = paths.resolve(change.path);
      const st = await fs.lstat(at).catch(() => undefined);
      if (!st?.isFile()) continue; // absent now, or not a file flexnode copies: the journal's before-state covers it
      const copy = join(dir, String(checkpoint.files.length));
      await fs.rm(copy, { force: true });
      await fs.link(at, copy).catch(async () => fs.copyFile(at, copy));
      checkpoint.files.push({ path: change.path, copy, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid });
    }
  }
  await writeFileAtomic(file(stateDir), `${JSON.stringify(checkpoint)}\n`, { mode: 0o600 });
  return checkpoint;
}

export async function readCheckpoint(stateDir: string): Promise<Checkpoint | undefined> {
  try {
    return JSON.parse(await fs.readFile(file(stateDir), 'utf8')) as Checkpoint;
  } catch {
    return undefined;
  }
}

/** The changes a step journaled since the checkpoint (its record then is a prefix of its record now, bar removals). */
export function changesSince(before: StepRecord | null, now: StepRecord | undefined): Change[] {
  const old = new Set((before?.changes ?? []).map((c) => canonicalJson(c)));
  return (now?.changes ?? []).filter((c) => !old.has(canonicalJson(c)));
}

/** Copy the checkpointed files back into place (atomically, with their mode and owner). */
export async function restoreFiles(checkpoint: Checkpoint, root: string): Promise<void> {
  const paths = new RootPaths(root);
  for (const f of checkpoint.files) {
    if (!f.copy) continue;
    const target = paths.resolve(f.path);
    const temp = tempPathFor(target); // copied beside it, then renamed over it: never a half-written binary
    await fs.copyFile(f.copy, temp);
    await fs.chown(temp, f.uid, f.gid);
    await fs.chmod(temp, f.mode);
    const handle = await fs.open(temp, 'r+');
    await handle.sync().finally(() => handle.close());
    await fs.rename(temp, target);
  }
}
