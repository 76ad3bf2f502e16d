import { createHash } from 'node:crypto';
import { constants as fsConstants, createReadStream, promises as fs, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { FlexnodeError, type HostFiles, type WriteOptions } from '@flexnode/sdk';
import { diskFullError, fsyncDir, sweepTemps, tempPathFor, writeFileAtomic, writeStreamAtomic } from '../state/atomic-write.js';
import type { StepContext } from './context.js';
import { captureBefore, fileInfo, lstatOrUndefined } from './file-state.js';
import { formatMode, formatSize } from './plan.js';
import { listNow, readBytesNow, readTextNow } from './read-now.js';
import { crashPoint } from '../state/crash-hook.js';

/**
 * Replace `path` atomically with a copy of `source` made by the kernel (copy_file_range, or a reflink where the
 * filesystem shares blocks): the temp file next to `path` gets the source's mode from the copy, then `mode`
 * exactly, is fsynced and renamed over `path`, and the directory fsynced. On failure the temp file goes and
 * `path` is untouched.
 */
async function copyFileAtomic(source: string, path: string, options: { mode: number; beforeRename?: () => void }): Promise<void> {
  const temp = tempPathFor(path);
  let renamed = false;
  try {
    await fs.copyFile(source, temp, fsConstants.COPYFILE_EXCL | fsConstants.COPYFILE_FICLONE);
    const handle = await fs.open(temp, fsConstants.O_WRONLY | fsConstants.O_NOFOLLOW);
    try {
      await handle.chmod(options.mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    options.beforeRename?.();
    await fs.rename(temp, path);
    renamed = true;
    await fsyncDir(posix.dirname(path));
  } catch (error) {
    if (!renamed) await fs.rm(temp, { force: true }).catch(() => undefined);
    throw diskFullError(error, path);
  }
}

/** sha256 of a file, streamed (binaries can be large), or undefined when absent. */
export async function sha256File(hostPath: string): Promise<string | undefined> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(hostPath)) hash.update(chunk as Buffer);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
  return hash.digest('hex');
}

const DIR_MODE = 0o755;

/** A regular file with this size, mode and owner already: only its content can still differ. */
function sameMeta(now: Stats | undefined, size: number, want: { mode: number; uid: number; gid: number }): boolean {
  return !!now?.isFile() && now.size === size && (now.mode & 0o7777) === want.mode && now.uid === want.uid && now.gid === want.gid;
}
const ignoreMissing = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
  throw error;
};

/** The Host's files: every path under the root prefix; mutations journaled (write-ahead) or planned. */
export function createFiles(ctx: StepContext): HostFiles {
  const resolve = (path: string) => ({ target: posix.normalize(path), host: ctx.paths.resolve(path) });
  const euid = process.geteuid?.() ?? 0;
  const egid = process.getegid?.() ?? 0;

  /** Create missing parents top-down, each journaled as `mkdir` first so revert removes them when empty. */
  async function ensureDir(target: string, mode = DIR_MODE): Promise<boolean> {
    const missing: string[] = [];
    for (let dir = target; dir !== '/'; dir = posix.dirname(dir)) {
      const stat = await lstatOrUndefined(ctx.paths.resolve(dir));
      if (stat?.isDirectory()) break;
      if (stat && !stat.isSymbolicLink()) throw new FlexnodeError('NOT_A_DIRECTORY', `${dir} exists and is not a directory`);
      if (stat) {
        // A symlink: fine if it leads to a directory (e.g. /lib -> usr/lib).
        const real = await fs.stat(ctx.paths.resolve(dir)).catch(() => undefined);
        if (real?.isDirectory()) break;
        throw new FlexnodeError('NOT_A_DIRECTORY', `${dir} is a dangling symlink or not a directory`);
      }
      missing.unshift(dir);
    }
    for (const dir of missing) {
      const host = ctx.paths.resolve(dir);
      await ctx.paths.assertInside(host);
      await ctx.journal({ kind: 'mkdir', path: dir });
      // A step running in parallel may create the same parent first: the directory being there is the goal.
      // Parents get the usual 0755; the mode asked for is the target directory's own.
      const dirMode = dir === target ? mode : DIR_MODE;
      const made = await fs.mkdir(host, { mode: dirMode }).then(
        () => true,
        (error: NodeJS.ErrnoException) => {
          if (error.code === 'EEXIST') return false;
          throw error;
        },
      );
      if (made) await fs.chmod(host, dirMode); // past the umask
    }
    return missing.length > 0;
  }

  /** Before replacing a file: inside the root, parents made (journaled), before-state journaled, stale temps gone. */
  async function prepareWrite(target: string, host: string): Promise<void> {
    await ctx.paths.assertInside(host);
    await ensureDir(posix.dirname(target));
    await journalBefore(target, host);
    await sweepTemps(host); // of a run killed while writing it
  }

  /** Journal the before-state on this step's first touch of the path. */
  async function journalBefore(target: string, host: string): Promise<void> {
    if (ctx.touched(target)) return;
    await ctx.journal({ kind: 'file', path: target, before: await captureBefore(ctx, target, host) });
  }

  /** Plan text: `(mode 0644, 1.2 kB, new)`; a secret's plan line never carries its content. */
  function detail(mode: number, size: number | undefined, exists: boolean, secret: boolean | undefined): string {
    const parts = [`mode ${formatMode(mode)}`];
    if (secret) parts.push('secret');
    if (size !== undefined) parts.push(formatSize(size));
    parts.push(exists ? 'changed' : 'new');
    return `(${parts.join(', ')})`;
  }

  function wanted(options: WriteOptions, fallbackMode?: number) {
    return {
      mode: (options.mode ?? (options.secret ? 0o600 : (fallbackMode ?? 0o644))) & 0o7777,
      uid: options.uid ?? euid,
      gid: options.gid ?? egid,
    };
  }

  const files: HostFiles = {
    async read(path) {
      return readBytesNow(resolve(path).host);
    },
    async readText(path) {
      return readTextNow(resolve(path).host);
    },
    async stat(path) {
      const stat = await lstatOrUndefined(resolve(path).host);
      return stat && fileInfo(stat);
    },
    async sha256(path) {
      return ctx.shared.hashes.sha256(resolve(path).host);
    },
    async list(path) {
      const names = listNow(resolve(path).host);
      return (names ?? []).sort();
    },

    async write(path, content, options = {}) {
      const { target, host } = resolve(path);
      const data = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
      const want = wanted(options);
      const now = await lstatOrUndefined(host);
      if (now?.isDirectory()) throw new FlexnodeError('IS_A_DIRECTORY', `cannot write ${target}: it is a directory`);
      if (sameMeta(now, data.length, want) && (await fs.readFile(host)).equals(data)) return false;
      if (ctx.dryRun) {
        // A plan says what the run would: a path whose parent leads out of the root is refused here too.
        await ctx.paths.assertInside(host);
        ctx.planned('write', target, detail(want.mode, data.length, !!now, options.secret));
        return true;
      }
      await prepareWrite(target, host);
      await writeFileAtomic(host, data, { mode: want.mode, uid: options.uid, gid: options.gid, beforeRename: () => crashPoint('file:before-rename') });
      ctx.log.debug(`wrote ${target}`, { mode: formatMode(want.mode), bytes: data.length });
      return true;
    },

    async copyFrom(source, path, options = {}) {
      const { target, host } = resolve(path);
      const src = await fs.stat(source).catch(ignoreMissing);
      if (!src && ctx.dryRun) {
        // The source is a dry run's placeholder (nothing was downloaded): plan without a size.
        await ctx.paths.assertInside(host);
        const now = await lstatOrUndefined(host);
        ctx.planned('write', target, detail(wanted(options, 0o644).mode, undefined, !!now, options.secret));
        return true;
      }
      if (!src?.isFile()) throw new FlexnodeError('COPY_SOURCE_MISSING', `cannot copy ${source} to ${target}: the source is not a file`);
      const want = wanted(options, src.mode & 0o7777);
      const now = await lstatOrUndefined(host);
      if (now?.isDirectory()) throw new FlexnodeError('IS_A_DIRECTORY', `cannot write ${target}: it is a directory`);
      const hashes = ctx.shared.hashes;
      if (sameMeta(now, src.size, want) && (await hashes.sha256(host)) === (await hashes.sha256(source))) return false;
      if (ctx.dryRun) {
        await ctx.paths.assertInside(host);
        ctx.planned('write', target, detail(want.mode, src.size, !!now, options.secret));
        return true;
      }
      await prepareWrite(target, host);
      // A source hashed when it was written (a download, an unpacked file): the copy has the same hash, known
      // without reading either, as long as the source did not change meanwhile.
      const known = await hashes.known(source);
      const beforeRename = () => crashPoint('file:before-rename');
      // The kernel copies (no bytes through this process) when the copy, made with the source's mode and our
      // owner, grants nobody more than the file will have in the end; else the bytes are streamed.
      if (options.uid === undefined && options.gid === undefined && (src.mode & 0o7777 & ~want.mode) === 0) {
        await copyFileAtomic(source, host, { mode: want.mode, beforeRename });
      } else {
        await writeStreamAtomic(host, createReadStream(source), { mode: want.mode, uid: options.uid, gid: options.gid, beforeRename });
      }
      if (known !== undefined && (await hashes.known(source)) === known) await hashes.remember(host, known);
      ctx.log.debug(`installed ${target} from ${source}`, { mode: formatMode(want.mode), bytes: src.size });
      return true;
    },

    async mkdir(path, options = {}) {
      const { target, host } = resolve(path);
      const now = await lstatOrUndefined(host);
      if (now?.isDirectory()) return false;
      if (now?.isSymbolicLink()) {
        // Never followed: a directory flexnode makes is a directory, under the root (the journal restores it).
        const to = await fs.readlink(host).catch(() => '?');
        throw new FlexnodeError('NOT_A_DIRECTORY', `cannot create directory ${target}: it is a symlink (to ${to})`, {
          hint: 'replace the symlink with a directory (or point the config at the real path)',
        });
      }
      if (now) throw new FlexnodeError('NOT_A_DIRECTORY', `cannot create directory ${target}: something else is there`);
      const mode = options.mode ?? DIR_MODE;
      if (ctx.dryRun) {
        await ctx.paths.assertInside(host);
        ctx.planned('mkdir', target, `(mode ${formatMode(mode)})`);
        return true;
      }
      // Parents get the default mode; the directory asked for gets its own.
      await ensureDir(posix.dirname(target));
      return ensureDir(target, mode);
    },

    async remove(path) {
      const { target, host } = resolve(path);
      const now = await lstatOrUndefined(host);
      if (!now) return false;
      if (now.isDirectory() && (await fs.readdir(host)).length > 0) {
        throw new FlexnodeError('DIR_NOT_EMPTY', `cannot remove ${target}: the directory is not empty`);
      }
      if (ctx.dryRun) {
        await ctx.paths.assertInside(host);
        ctx.planned('remove', target);
        return true;
      }
      await ctx.paths.assertInside(host);
      await journalBefore(target, host);
      if (now.isDirectory()) await fs.rmdir(host);
      else await fs.unlink(host);
      return true;
    },
  };
  return files;
}
