import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { FlexnodeError } from '@flexnode/sdk';

export interface AtomicWriteOptions {
  /** Permission bits, set when the temp file is opened (and re-applied past the umask). */
  mode: number;
  uid?: number;
  gid?: number;
  /** Test hooks around the rename (the journal's crash points). */
  beforeRename?: () => void;
  afterRename?: () => void;
}

/** Prefix of temp files, so that leftovers of a killed process can be recognised and swept. */
export const TEMP_PREFIX = '.flexnode-tmp-';

/** A fresh temp path next to `path`: same directory, so that the rename is atomic (same filesystem). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `${TEMP_PREFIX}${basename(path)}.${randomBytes(6).toString('hex')}`);
}

/** True for the temp files {@link writeFileAtomic} leaves behind when a process dies mid-write. */
export function isTempFile(name: string): boolean {
  return name.startsWith(TEMP_PREFIX);
}

/**
 * Remove the temp files that a writer killed mid-write left next to `path` (`.flexnode-tmp-<name>.<12 hex>`):
 * nothing else cleans them, so a resumed run or a revert of `path` does. Only `path`'s own temps are touched.
 */
export async function sweepTemps(path: string): Promise<void> {
  const dir = dirname(path);
  const prefix = `${TEMP_PREFIX}${basename(path)}.`;
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (name.startsWith(prefix) && /^[0-9a-f]{12}$/.test(name.slice(prefix.length))) await fs.rm(join(dir, name), { force: true });
  }
}

/** Turn ENOSPC/EDQUOT into an error a person understands; anything else passes through. */
export function diskFullError(error: unknown, path: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new FlexnodeError('DISK_FULL', `the disk is full: could not write ${path}`, {
      hint: `free space on the filesystem holding ${dirname(path)}; the previous file was left untouched`,
      cause: error,
    });
  }
  return error;
}

/**
 * Replace `path` atomically: `fill` writes into a temp file in the same directory (O_EXCL, mode set at open),
 * which is fsynced, renamed over `path`, and the directory fsynced. On any failure the temp file is removed
 * and the previous `path` is untouched: a reader sees the old file or the new one, never half of either.
 */
export async function replaceAtomic(path: string, options: AtomicWriteOptions, fill: (handle: FileHandle) => Promise<void>): Promise<void> {
  const temp = tempPathFor(path);
  let handle: FileHandle | undefined;
  let renamed = false;
  try {
    handle = await fs.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, options.mode);
    // The umask may have narrowed the mode given to open(): set it exactly.
    await handle.chmod(options.mode);
    if (options.uid !== undefined || options.gid !== undefined) {
      await handle.chown(options.uid ?? -1, options.gid ?? -1);
      // chown clears setuid/setgid bits: re-apply the mode.
      await handle.chmod(options.mode);
    }
    await fill(handle);
    await handle.sync();
    await handle.close();
    handle = undefined;
    options.beforeRename?.();
    await fs.rename(temp, path);
    renamed = true;
    options.afterRename?.();
    await fsyncDir(dirname(path));
  } catch (error) {
    await handle?.close().catch(() => undefined);
    if (!renamed) await fs.rm(temp, { force: true }).catch(() => undefined);
    throw diskFullError(error, path);
  }
}

/** Write `data` to `path` atomically (see {@link replaceAtomic}). */
export async function writeFileAtomic(path: string, data: string | Buffer, options: AtomicWriteOptions): Promise<void> {
  await replaceAtomic(path, options, async (handle) => {
    await handle.writeFile(data);
  });
}

/** Stream `source` into `path` atomically, without holding the whole content in memory. */
export async function writeStreamAtomic(path: string, source: Readable, options: AtomicWriteOptions): Promise<void> {
  await replaceAtomic(path, options, async (handle) => {
    for await (const chunk of source) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      // write() may write less than asked: loop until the chunk is out.
      for (let offset = 0; offset < buffer.length;) offset += (await handle.write(buffer, offset)).bytesWritten;
    }
  });
}

/** fsync a directory so that a rename in it survives a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
