import { promises as fs, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ExitCode, FlexnodeError } from '@flexnode/sdk';

const WORLD_WRITABLE = 0o002;
const STICKY = 0o1000;

/** Bad `--to`: exit 2, nothing written. */
function refuse(message: string, hint: string): FlexnodeError {
  return new FlexnodeError('MIRROR_TARGET_UNSAFE', message, { exitCode: ExitCode.Usage, hint });
}

const lstatOrUndefined = (path: string): Promise<Stats | undefined> =>
  fs.lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });

const mine = (st: Stats) => st.uid === 0 || st.uid === process.getuid?.();

/**
 * Check the mirror directory before anything is written; returns its absolute, symlink-free path. Refused
 * (exit 2): a path that exists and is not a directory, a target directory writable by everyone or owned by
 * another user, and a world-writable directory on the way to it, unless that one is sticky (like /tmp) and what
 * it holds on the way is ours: then nobody else can replace it. Whoever could write there could swap the
 * binaries every node of the fleet installs.
 */
export async function checkMirrorTarget(to: string): Promise<string> {
  const wanted = resolve(to);
  // The part that exists, with symlinks resolved; the rest is created below it.
  let existing = wanted;
  const missing: string[] = [];
  for (;;) {
    const st = await lstatOrUndefined(existing);
    if (st) break;
    missing.unshift(existing.slice(dirname(existing).length).replace(/^\//, ''));
    existing = dirname(existing);
  }
  const real = await fs.realpath(existing);
  const st = await fs.stat(real);
  if (!st.isDirectory()) {
    throw refuse(`--to ${to}: ${existing === wanted ? '' : `${existing} `}exists and is not a directory`, 'give a directory (it is created when missing)');
  }
  const target = join(real, ...missing);
  if (missing.length === 0) {
    if (st.mode & WORLD_WRITABLE)
      throw refuse(`--to ${to}: the directory is writable by everyone (mode ${modeOf(st)})`, `chmod o-w ${real}, or use another directory`);
    if (!mine(st)) throw refuse(`--to ${to}: the directory belongs to uid ${st.uid}, not to you or root`, 'use a directory of yours');
  }
  // Every directory above the target (and the existing part of the target's path).
  for (let dir = missing.length === 0 ? dirname(real) : real, child = missing.length === 0 ? st : undefined; ;) {
    const dst = await fs.stat(dir);
    if (dst.mode & WORLD_WRITABLE) {
      const safeSticky = (dst.mode & STICKY) !== 0 && child !== undefined && mine(child);
      if (!safeSticky) {
        throw refuse(
          `--to ${to}: ${dir} on the way to it is writable by everyone (mode ${modeOf(dst)})${dst.mode & STICKY ? ', and the mirror would be created right in it' : ''}`,
          'put the mirror under directories only root (or you) can write, e.g. /srv/flexnode-mirror',
        );
      }
    }
    if (dir === '/') break;
    child = dst;
    dir = dirname(dir);
  }
  return target;
}

const modeOf = (st: Stats) => (st.mode & 0o7777).toString(8).padStart(4, '0');
