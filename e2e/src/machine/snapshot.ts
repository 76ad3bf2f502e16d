// File-tree snapshots of a machine's disk (the overlay's merged dir, seen from the host), to prove an
// uninstall restored the machine exactly. Files not copied up are hashed once per process and reused.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface SnapshotEntry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** Permission bits incl. setuid/setgid/sticky. */
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  sha256?: string;
  target?: string;
}

/** Machine path ('/etc/hosts') -> entry. */
export type Snapshot = Map<string, SnapshotEntry>;

export interface SnapshotDiff {
  added: string[];
  removed: string[];
  changed: { path: string; fields: string[] }[];
}

/** Virtual or volatile trees a snapshot never looks at. */
export const DEFAULT_SNAPSHOT_EXCLUDES = ['/proc', '/sys', '/dev', '/run', '/tmp', '/var/tmp', '/var/log/journal', '/var/cache/ldconfig'];

const lowerHashes = new Map<string, string>();

/**
 * Walks `merged` and records every path not under an exclude. With `upper` and `lower` given, a file the
 * machine never wrote (absent from the upper dir) is the base's file, whose hash is cached per process.
 */
export async function snapshotTree(merged: string, opts: { excludes?: string[]; upper?: string; lower?: string } = {}): Promise<Snapshot> {
  const excludes = [...DEFAULT_SNAPSHOT_EXCLUDES, ...(opts.excludes ?? [])].map((e) => e.replace(/\/+$/, ''));
  const skip = (p: string) => excludes.some((e) => p === e || p.startsWith(`${e}/`));
  const inUpper = opts.upper && opts.lower ? await listTree(opts.upper) : undefined;
  const out: Snapshot = new Map();
  const hashing = limiter(8);

  async function walk(rel: string): Promise<void> {
    const names = (await readdir(join(merged, rel))).filter((n) => !skip(`${rel}/${n}`));
    await Promise.all(
      names.map(async (name) => {
        const path = `${rel}/${name}`;
        const st = await lstat(join(merged, path));
        const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
        if (st.isDirectory()) {
          out.set(path, { type: 'dir', ...base });
          await walk(path);
        } else if (st.isSymbolicLink()) {
          out.set(path, { type: 'symlink', ...base, target: await readlink(join(merged, path)) });
        } else if (st.isFile()) {
          const sha256 = await hashing(() => hashOf(path, st.size, st.mtimeMs));
          out.set(path, { type: 'file', ...base, size: st.size, sha256 });
        } else {
          out.set(path, { type: 'other', ...base });
        }
      }),
    );
  }

  async function hashOf(path: string, size: number, mtime: number): Promise<string> {
    const fromBase = inUpper !== undefined && !inUpper.has(path);
    const key = `${opts.lower}\0${path}\0${size}\0${mtime}`;
    if (fromBase && lowerHashes.has(key)) return lowerHashes.get(key)!;
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(join(merged, path))) hash.update(chunk as Buffer);
    const hex = hash.digest('hex');
    if (fromBase) lowerHashes.set(key, hex);
    return hex;
  }

  await walk('');
  // Sorted by path, so two snapshots print and compare the same way.
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Every path under dir, as '/a/b' (the overlay upper dir is small: only what the machine wrote). */
async function listTree(dir: string): Promise<Set<string>> {
  const entries = await readdir(dir, { recursive: true });
  return new Set(entries.map((e) => `/${e}`));
}

/** At most n of the given async jobs at a time. */
function limiter(n: number): <T>(job: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async (job) => {
    if (active >= n) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await job();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

/** What changed from snapshot a to snapshot b, paths sorted. */
export function diffSnapshots(a: Snapshot, b: Snapshot): SnapshotDiff {
  const diff: SnapshotDiff = { added: [], removed: [], changed: [] };
  for (const [path, eb] of b) {
    const ea = a.get(path);
    if (!ea) {
      diff.added.push(path);
      continue;
    }
    const fields = (['type', 'mode', 'uid', 'gid', 'sha256', 'target'] as const).filter((f) => ea[f] !== eb[f]);
    if (fields.length) diff.changed.push({ path, fields });
  }
  for (const path of a.keys()) if (!b.has(path)) diff.removed.push(path);
  diff.added.sort();
  diff.removed.sort();
  diff.changed.sort((x, y) => x.path.localeCompare(y.path));
  return diff;
}

/** True when nothing was added, removed or changed. */
export function isEmptyDiff(d: SnapshotDiff): boolean {
  return d.added.length + d.removed.length + d.changed.length === 0;
}
