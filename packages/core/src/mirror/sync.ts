import { promises as fs, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ChecksumError, FlexnodeError, isFlexnodeError, type MirrorArtifact } from '@flexnode/sdk';
import { writeFileAtomic } from '../state/atomic-write.js';
import { Fetcher, parseChecksumFile, sha256OfFile, withoutCredentials, type FetchSettings } from './fetch.js';
import { MANIFEST, readManifest, writeManifest, type ManifestEntry } from './manifest.js';
import type { PlannedArtifact } from './plan.js';

export interface MirrorSyncOptions {
  /** The mirror directory, as {@link checkMirrorTarget} returned it. */
  to: string;
  planned: readonly PlannedArtifact[];
  /** Another mirror's base URL: files (and checksum files kept in it) come from there instead of upstream. */
  from?: string;
  fetch?: FetchSettings;
  /** Downloads at once (default 4). */
  concurrency?: number;
  /** Called as each file is settled. */
  onFile?: (file: SyncedFile) => void;
}

/** What happened to one file: it was there and right, it was missing, or it was there and wrong. */
export type SyncStatus = 'present' | 'downloaded' | 'replaced';

export interface SyncedFile extends ManifestEntry {
  status: SyncStatus;
}

export interface SyncFailure {
  file: string;
  name: string;
  message: string;
  code?: string;
}

export interface MirrorSyncReport {
  to: string;
  from?: string;
  files: SyncedFile[];
  failures: SyncFailure[];
  downloadedBytes: number;
  /** manifest.json's path; absent when the sync landed no file and none was listed before (nothing written). */
  manifest?: string;
}

const DIR_MODE = 0o755;
const SHA256 = /^[0-9a-f]{64}$/;
const FILE_MODE = 0o644;

/**
 * Make the mirror hold every planned artifact, verified: a file already there with the right sha256 is kept
 * (no download), a missing or wrong one is downloaded (from `from` when given, else upstream) and verified
 * while it streams, and only then takes its name. Files are 0644 and directories 0755 whatever the umask.
 * manifest.json lists every file with its size, sha256 and source; entries of an earlier sync whose files are
 * still there are kept (one mirror may serve several configs). A failed artifact does not stop the others:
 * the report lists it. A sync that lands no file where no manifest was writes none, and takes away the
 * directories it made: an empty mirror with a manifest looks like a finished one.
 */
export async function syncMirror(options: MirrorSyncOptions): Promise<MirrorSyncReport> {
  const { to } = options;
  const from = options.from?.replace(/\/+$/, '');
  const made = await firstMissing(to);
  const newDirs = made ? [] : await missingDirs(to, options.planned);
  await ensureDir(to, to);
  const previous = await readManifest(to);
  const fetcher = new Fetcher(options.fetch);
  // What the source mirror verified: the checksums of files whose published checksum it keeps no copy of.
  const fromManifest = from ? await sourceManifest(fetcher, from) : undefined;
  const files: SyncedFile[] = [];
  const failures: SyncFailure[] = [];
  const settle = (file: SyncedFile) => {
    files.push(file);
    options.onFile?.(file);
  };
  try {
    await inParallel(options.planned, options.concurrency ?? 4, async ({ artifact }) => {
      try {
        const expected = await expectedChecksum(artifact, { to, from, fromManifest, previous, fetcher });
        const source = from ? `${from}/${artifact.mirrorPath}` : artifact.url;
        settle(await syncFile(to, artifact.mirrorPath, artifact.name, source, expected.sha256, withoutCredentials(expected.verifiedWith), fetcher));
        if (expected.checksumFile) settle(await keepChecksumFile(to, artifact, expected.checksumFile, withoutCredentials(expected.verifiedWith)));
      } catch (error) {
        failures.push({
          file: artifact.mirrorPath,
          name: artifact.name,
          message: (error as Error).message,
          code: isFlexnodeError(error) ? error.code : undefined,
        });
      }
    });
  } finally {
    fetcher.close();
  }
  const entries = new Map<string, ManifestEntry>();
  for (const [file, entry] of previous) {
    if (failures.some((f) => f.file === file)) continue;
    const st = await fs.lstat(join(to, file)).catch(() => undefined);
    if (st?.isFile() && st.size === entry.size) entries.set(file, entry);
  }
  for (const { status: _status, ...entry } of files) entries.set(entry.file, entry);
  const base = { to, ...(from ? { from: withoutCredentials(from) } : {}), failures };
  if (entries.size === 0 && previous.size === 0 && failures.length > 0) {
    // Only what this run made: `to` (new, so all in it is ours), then each new parent while it is empty (another
    // sync may be filling a sibling under the same new parent).
    if (made) {
      await fs.rm(to, { recursive: true, force: true });
      for (let d = dirname(to); d.length >= made.length && (d === made || d.startsWith(`${made}/`)); d = dirname(d)) {
        if (
          !(await fs.rmdir(d).then(
            () => true,
            () => false,
          ))
        )
          break;
      }
    }
    for (const dir of newDirs) await fs.rmdir(dir).catch(() => undefined); // deepest first; one not empty stays
    return { ...base, files, downloadedBytes: 0 };
  }
  await writeManifest(to, entries.values());
  files.sort((a, b) => a.file.localeCompare(b.file));
  const downloadedBytes = files.filter((f) => f.status !== 'present').reduce((n, f) => n + f.size, 0);
  return { ...base, files, downloadedBytes, manifest: join(to, MANIFEST) };
}

/** The outermost directory of `dir`'s path that does not exist yet (the one a `mkdir -p` would make first). */
async function firstMissing(dir: string): Promise<string | undefined> {
  let missing: string | undefined;
  for (let d = dir; ; d = dirname(d)) {
    if (
      await fs.lstat(d).then(
        () => true,
        () => false,
      )
    )
      return missing;
    missing = d;
    if (dirname(d) === d) return missing;
  }
}

/** The directories the planned files would go in (and their parents under `to`) that are not there yet, deepest first. */
async function missingDirs(to: string, planned: readonly PlannedArtifact[]): Promise<string[]> {
  const dirs = new Set<string>();
  for (const { artifact } of planned)
    for (const path of [artifact.mirrorPath, artifact.sha256MirrorPath])
      for (let d = path ? dirname(join(to, path)) : to; d !== to && d.startsWith(`${to}/`); d = dirname(d)) dirs.add(d);
  const missing: string[] = [];
  for (const d of dirs) if (!(await fs.lstat(d).catch(() => undefined))) missing.push(d);
  return missing.sort((a, b) => b.length - a.length);
}

interface Expected {
  sha256: string;
  verifiedWith: string;
  /** The published checksum file, to keep in the mirror at `sha256MirrorPath`. */
  checksumFile?: { text: string; source: string };
}

/** The sha256 an artifact must have: pinned, or read from its published checksum file (the mirror's copy first). */
async function expectedChecksum(
  artifact: MirrorArtifact,
  ctx: { to: string; from?: string; fromManifest?: Map<string, ManifestEntry>; previous: Map<string, ManifestEntry>; fetcher: Fetcher },
): Promise<Expected> {
  const pinned = artifact.sha256?.toLowerCase();
  if (!artifact.sha256Url) return { sha256: pinned!, verifiedWith: 'pinned' };
  const keep = artifact.sha256MirrorPath;
  const source = ctx.from && keep ? `${ctx.from}/${keep}` : artifact.sha256Url;
  const names = [basename(artifact.mirrorPath), basename(new URL(artifact.url).pathname)];
  const parse = (text: string) => names.map((n) => parseChecksumFile(text, n)).find(Boolean);
  let text: string | undefined;
  if (keep) {
    // The copy kept by an earlier sync: no request when it is there and readable.
    const local = await fs.readFile(join(ctx.to, keep), 'utf8').catch(() => undefined);
    if (local !== undefined && parse(local)) text = local;
  } else if (pinned) {
    return { sha256: pinned, verifiedWith: 'pinned' };
  } else {
    const before = ctx.previous.get(artifact.mirrorPath);
    if (before?.verifiedWith === withoutCredentials(source) && SHA256.test(before.sha256)) return { sha256: before.sha256, verifiedWith: source };
    const theirs = ctx.fromManifest?.get(artifact.mirrorPath);
    if (theirs && SHA256.test(theirs.sha256)) return { sha256: theirs.sha256, verifiedWith: `${ctx.from}/${MANIFEST}` };
  }
  text ??= await ctx.fetcher.text(`${artifact.name} checksum`, source);
  const published = parse(text);
  if (!published) throw new FlexnodeError('CHECKSUM_UNREADABLE', `${artifact.name}: ${source} holds no sha256 for ${names[0]}`);
  if (pinned && published !== pinned) throw new ChecksumError(`${artifact.name} (published checksum)`, pinned, published, source);
  return { sha256: pinned ?? published, verifiedWith: pinned ? 'pinned' : source, ...(keep ? { checksumFile: { text, source } } : {}) };
}

/** The source mirror's manifest.json, or none (a plain directory of files is a mirror too). */
async function sourceManifest(fetcher: Fetcher, from: string): Promise<Map<string, ManifestEntry> | undefined> {
  const text = await fetcher.text(`${from}/${MANIFEST}`, `${from}/${MANIFEST}`, 16 << 20).catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const files = (JSON.parse(text) as { files?: ManifestEntry[] }).files;
    return new Map((Array.isArray(files) ? files : []).filter((e) => typeof e?.file === 'string' && typeof e.sha256 === 'string').map((e) => [e.file, e]));
  } catch {
    return undefined;
  }
}

/** One artifact: kept when right, else downloaded and verified. */
async function syncFile(to: string, file: string, name: string, source: string, sha256: string, verifiedWith: string, fetcher: Fetcher): Promise<SyncedFile> {
  const path = join(to, file);
  await ensureDir(dirname(path), to);
  const st = await fs.lstat(path).catch(() => undefined);
  if (st && !st.isFile())
    throw new FlexnodeError('MIRROR_NOT_A_FILE', `${path} exists and is not a regular file`, {
      hint: 'remove it; mirror sync does not follow or replace links and directories',
    });
  if (st && (await sha256OfFile(path)) === sha256) {
    await fixMode(path, st, FILE_MODE);
    return { file, size: st.size, sha256, source: withoutCredentials(source), name, verifiedWith, status: 'present' };
  }
  const size = await fetcher.file(name, source, path, sha256);
  return { file, size, sha256, source: withoutCredentials(source), name, verifiedWith, status: st ? 'replaced' : 'downloaded' };
}

/** The published checksum file, kept at `sha256MirrorPath` for nodes that verify against it. */
async function keepChecksumFile(to: string, artifact: MirrorArtifact, checksum: { text: string; source: string }, verifiedWith: string): Promise<SyncedFile> {
  const file = artifact.sha256MirrorPath!;
  const path = join(to, file);
  await ensureDir(dirname(path), to);
  const data = Buffer.from(checksum.text);
  const { createHash } = await import('node:crypto');
  const sha256 = createHash('sha256').update(data).digest('hex');
  const st = await fs.lstat(path).catch(() => undefined);
  if (st && !st.isFile()) throw new FlexnodeError('MIRROR_NOT_A_FILE', `${path} exists and is not a regular file`);
  const same = st !== undefined && (await fs.readFile(path)).equals(data);
  if (same) await fixMode(path, st, FILE_MODE);
  else await writeFileAtomic(path, data, { mode: FILE_MODE });
  const entry = { file, size: data.length, sha256, source: withoutCredentials(checksum.source), name: `checksum of ${artifact.name}`, verifiedWith };
  return { ...entry, status: same ? 'present' : st ? 'replaced' : 'downloaded' };
}

/**
 * Create `dir` and its missing parents (each 0755 whatever the umask). An existing directory inside the mirror
 * (`root` or below) must be a real directory, not a link out of it, and has its mode set back to 0755.
 */
async function ensureDir(dir: string, root: string): Promise<void> {
  const inside = dir === root || dir.startsWith(`${root}/`);
  const st = await fs.lstat(dir).catch(() => undefined);
  if (!st) {
    if (dirname(dir) !== dir) await ensureDir(dirname(dir), root);
    try {
      await fs.mkdir(dir, { mode: DIR_MODE });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return ensureDir(dir, root); // made meanwhile (a parallel download): check what it is
    }
    await fs.chmod(dir, DIR_MODE);
    return;
  }
  if (!inside) return;
  if (!st.isDirectory())
    throw new FlexnodeError('MIRROR_NOT_A_DIRECTORY', `${dir} exists and is not a directory`, { hint: 'remove it; mirror sync does not follow links' });
  await fixMode(dir, st, DIR_MODE);
}

/** Files 0644, directories 0755: only world-writable (or otherwise different) modes are set back. */
async function fixMode(path: string, st: Stats, mode: number): Promise<void> {
  if ((st.mode & 0o7777) !== mode) await fs.chmod(path, mode);
}

async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
