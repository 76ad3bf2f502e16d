import { randomBytes } from 'node:crypto';
import { createReadStream, promises as fs, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FlexnodeError, type Change, type FileBefore, type FileInfo } from '@flexnode/sdk';
import { sweepTemps, writeStreamAtomic } from '../state/atomic-write.js';
import type { StepContext } from './context.js';
import { lstatNow } from './read-now.js';

/** lstat, or undefined when nothing is there. */
export async function lstatOrUndefined(hostPath: string): Promise<Stats | undefined> {
  return lstatNow(hostPath);
}

export function fileInfo(stat: Stats): FileInfo {
  const type = stat.isFile() ? 'file' : stat.isDirectory() ? 'dir' : stat.isSymbolicLink() ? 'symlink' : 'other';
  return { type, mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid, size: stat.size };
}

/**
 * What a path holds now, as a journal before-state. A file's content is first saved to the content-addressed
 * backup store, so the journal entry never names a backup that does not exist.
 */
export async function captureBefore(ctx: StepContext, target: string, hostPath: string): Promise<FileBefore> {
  const stat = await lstatOrUndefined(hostPath);
  if (!stat) return { exists: false };
  const info = fileInfo(stat);
  if (stat.isSymbolicLink()) return { exists: true, type: 'symlink', target: await fs.readlink(hostPath) };
  if (stat.isDirectory()) return { exists: true, type: 'dir', mode: info.mode, uid: info.uid, gid: info.gid };
  if (!stat.isFile()) throw new FlexnodeError('UNSUPPORTED_FILE_TYPE', `${target} is neither a file, a directory nor a symlink: refusing to replace it`);
  const journal = ctx.shared.journal;
  if (!journal) throw new Error('internal: a before-state outside a dry run needs a journal');
  const id = await journal.backups.saveFile(hostPath);
  return { exists: true, type: 'file', mode: info.mode, uid: info.uid, gid: info.gid, sha256: id, backup: id };
}

/** Put a path back the way a `file` change's before-state says (idempotent: a second call changes nothing). */
export async function restoreFile(ctx: StepContext, change: Change & { kind: 'file' }): Promise<void> {
  const hostPath = ctx.paths.resolve(change.path);
  await ctx.paths.assertInside(hostPath);
  await sweepTemps(hostPath); // a run killed while writing it left its temp file next to it
  const before = change.before;
  const now = await lstatOrUndefined(hostPath);
  if (!before.exists) {
    if (!now) return;
    if (now.isDirectory()) await removeDirIfEmpty(ctx, change.path, hostPath);
    else await fs.unlink(hostPath);
    return;
  }
  await fs.mkdir(dirname(hostPath), { recursive: true });
  switch (before.type) {
    case 'file': {
      const journal = ctx.shared.journal;
      if (!journal) throw new Error('internal: restoring a file needs the journal');
      const backup = journal.backups.path(before.backup);
      if (!(await journal.backups.has(before.backup))) {
        throw new FlexnodeError('BACKUP_MISSING', `cannot restore ${change.path}: its backup ${backup} is missing`);
      }
      if (now?.isDirectory()) await removeDirIfEmpty(ctx, change.path, hostPath);
      await writeStreamAtomic(hostPath, createReadStream(backup), { mode: before.mode, uid: before.uid, gid: before.gid });
      return;
    }
    case 'symlink': {
      if (now?.isSymbolicLink() && (await fs.readlink(hostPath)) === before.target) return;
      if (now?.isDirectory()) await removeDirIfEmpty(ctx, change.path, hostPath);
      // A temp link renamed into place: the path is never missing in between.
      const temp = join(dirname(hostPath), `.flexnode-tmp-${basename(hostPath)}.${randomBytes(6).toString('hex')}`);
      await fs.symlink(before.target, temp);
      await fs.rename(temp, hostPath).catch(async (error) => {
        await fs.rm(temp, { force: true });
        throw error;
      });
      return;
    }
    case 'dir': {
      if (now && !now.isDirectory()) await fs.unlink(hostPath);
      await fs.mkdir(hostPath, { recursive: true, mode: before.mode });
      await fs.chown(hostPath, before.uid, before.gid);
      await fs.chmod(hostPath, before.mode);
      return;
    }
  }
}

/** rmdir when empty; a directory that holds something that is not ours is left, with a note. */
export async function removeDirIfEmpty(ctx: StepContext, target: string, hostPath: string): Promise<boolean> {
  try {
    await fs.rmdir(hostPath);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') {
      ctx.log.info(`left ${target} in place: it is not empty`);
      return false;
    }
    throw error;
  }
}
