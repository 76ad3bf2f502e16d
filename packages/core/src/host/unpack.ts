import { createHash, type Hash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { join, posix } from 'node:path';
import { createGunzip } from 'node:zlib';
import { FlexnodeError, UnsafeArchiveError } from '@flexnode/sdk';
import type { ReadEntry } from 'tar';
import type { StepContext } from './context.js';
import { crashPoint } from '../state/crash-hook.js';

type Tar = typeof import('tar');
let tarModule: Promise<Tar> | undefined;
/** node-tar is imported on first unpack (start-up time). */
const loadTar = () => (tarModule ??= import('tar'));

interface Entry {
  path: string;
  type: string;
  linkpath?: string;
}

const SAFE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);
const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
const MAX_LINK_HOPS = 40;
/** A gzip stream inflating more than this (node-tar's own limit) is refused: a decompression bomb. */
const MAX_DECOMPRESSION_RATIO = 1000;
const READ_SIZE = 1 << 20;

/**
 * Unpack a verified tar(.gz) into a fresh private staging directory `<stateDir>/staging/<random>` (mode 0700)
 * and return it. The archive is read once: gzip is inflated off the main thread (node's zlib streams), and each
 * entry is vetted before node-tar writes it. Any entry that could write or point outside the staging directory
 * (absolute path, `..`, a symlink or hardlink leading out, even through links of the archive seen before it, a
 * device or fifo) is never written, and refuses the archive; once the last entry is in, the whole listing is
 * judged again (a later symlink can redirect an earlier link). A refused or unreadable archive leaves nothing:
 * its staging directory is removed before the error is thrown, so nothing from it can ever be installed. The
 * sha256 of each regular file is computed as it is written and remembered (the install that copies it out does
 * not read it again). The Host's dispose() removes staging.
 */
export async function unpackArchive(ctx: StepContext, archivePath: string, artifactName?: string): Promise<string> {
  if (ctx.dryRun) return join(ctx.shared.stateDir, 'staging', 'dry-run'); // a placeholder: a dry run writes nothing
  return ctx.shared.activity.time('unpack', () => unpack(ctx, archivePath, artifactName));
}

async function unpack(ctx: StepContext, archivePath: string, artifactName?: string): Promise<string> {
  const shown = artifactName ? `${artifactName} (cached as ${archivePath})` : archivePath;
  const stagingRoot = join(ctx.shared.stateDir, 'staging');
  const tar = await loadTar();
  const gzipped = await isGzip(archivePath).catch((error: Error) => {
    throw new FlexnodeError('ARCHIVE_INVALID', `${shown} is not a readable tar archive: ${error.message}`, { cause: error });
  });

  await fs.mkdir(stagingRoot, { recursive: true, mode: 0o700 });
  const dir = await fs.mkdtemp(join(stagingRoot, 'unpack-'));
  ctx.shared.staging.add(dir);
  const entries: Entry[] = [];
  const links = new Map<string, string>();
  const hashes = new Map<string, Hash>();
  let refused: UnsafeArchiveError | undefined;
  const discard = async (error: unknown): Promise<never> => {
    await fs.rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 20 });
    ctx.shared.staging.delete(dir);
    throw error;
  };

  try {
    await new Promise<void>((resolve, reject) => {
      const unpack = new tar.Unpack({
        cwd: dir,
        strict: true, // a warning (e.g. a path node-tar itself finds unsafe) is an error
        preserveOwner: false, // staged files belong to us; the Host sets owners on install
        chmod: true,
        processUmask: 0, // modes exactly as in the archive (executables stay executable)
        // Vetted before node-tar acts on it; after a refusal nothing more is written, the rest is only read through.
        filter: (_path, e) => {
          if (refused) return false;
          const entry = e as ReadEntry;
          const seen: Entry = { path: entry.path, type: entry.type, linkpath: entry.linkpath ?? undefined };
          try {
            vetEntry(shown, seen, links);
          } catch (error) {
            refused = error as UnsafeArchiveError;
            return false;
          }
          entries.push(seen);
          crashPoint('unpack:entry'); // `unpack:entry#N`: killed with N-1 entries out
          return true;
        },
        // Regular files are hashed on their way to disk.
        transform: (entry) => {
          if (!FILE_TYPES.has(entry.type)) return undefined;
          const hash = createHash('sha256');
          hashes.set(normal(entry.path), hash);
          // node:stream where first used: its bundled shim is the module itself (a function), so a top-level import
          // loads it on every start of a command that only might unpack (~3 ms of `flexnode status`).
          const { Transform } = process.getBuiltinModule('node:stream');
          return new Transform({
            transform(chunk: Buffer, _encoding, done) {
              hash.update(chunk);
              done(null, chunk);
            },
          }) as unknown as ReadEntry;
        },
      });
      const source = createReadStream(archivePath, { highWaterMark: READ_SIZE });
      source.on('error', reject);
      unpack.on('error', reject);
      unpack.on('close', () => resolve());
      if (!gzipped) {
        source.pipe(unpack);
        return;
      }
      const gunzip = createGunzip({ chunkSize: READ_SIZE });
      let compressed = 0;
      let inflated = 0;
      source.on('data', (chunk) => (compressed += chunk.length));
      gunzip.on('data', (chunk: Buffer) => {
        inflated += chunk.length;
        if (inflated > MAX_DECOMPRESSION_RATIO * Math.max(compressed, 1024)) {
          gunzip.destroy(new Error(`it inflates more than ${MAX_DECOMPRESSION_RATIO} times (a decompression bomb?)`));
        }
      });
      gunzip.on('error', reject);
      source.pipe(gunzip).pipe(unpack);
    });
  } catch (error) {
    if (refused) return discard(refused);
    return discard(new FlexnodeError('ARCHIVE_INVALID', `could not unpack ${shown}: ${(error as Error).message}`, { cause: error }));
  }
  if (refused) return discard(refused);
  try {
    checkEntries(shown, entries);
  } catch (error) {
    return discard(error);
  }
  // Only a path whose last entry was a regular file holds the bytes hashed for it.
  const last = new Map(entries.map((e) => [normal(e.path), e.type]));
  for (const [path, hash] of hashes) {
    if (FILE_TYPES.has(last.get(path) ?? '')) await ctx.shared.hashes.remember(join(dir, path), hash.digest('hex'), { persist: false });
  }
  ctx.log.debug(`unpacked ${archivePath} (${entries.length} entries) into ${dir}`);
  return dir;
}

/** Whether a file starts with the gzip magic (else node-tar reads it as it is: plain tar, or refuses it). */
async function isGzip(path: string): Promise<boolean> {
  const handle = await fs.open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/** The checks of one entry that need only it and the symlinks of the archive seen before it. */
function vetEntry(archive: string, entry: Entry, links: Map<string, string>): void {
  checkPath(archive, entry);
  if (entry.type !== 'SymbolicLink' && entry.type !== 'Link') return;
  checkLink(archive, entry, links);
  if (entry.type === 'SymbolicLink') links.set(normal(entry.path), entry.linkpath ?? '');
}

function checkPath(archive: string, entry: Entry): void {
  if (!SAFE_TYPES.has(entry.type)) throw new UnsafeArchiveError(archive, entry.path, `${entry.type} entries are not allowed`);
  if (entry.path.startsWith('/') || /^[A-Za-z]:/.test(entry.path)) throw new UnsafeArchiveError(archive, entry.path, 'absolute path');
  if (entry.path.split(/[\\/]/).includes('..')) throw new UnsafeArchiveError(archive, entry.path, '".." in the path');
}

function checkLink(archive: string, entry: Entry, links: Map<string, string>): void {
  const target = entry.linkpath ?? '';
  if (target === '') throw new UnsafeArchiveError(archive, entry.path, 'link without a target');
  if (target.startsWith('/')) throw new UnsafeArchiveError(archive, entry.path, `link to the absolute path ${target}`);
  // A symlink's target is relative to its directory; a hardlink's to the archive root.
  const from = entry.type === 'SymbolicLink' ? segments(posix.dirname(normal(entry.path))) : [];
  const where = resolveInside(links, from, segments(target));
  if (where !== true) throw new UnsafeArchiveError(archive, entry.path, `link to ${target} ${where}`);
}

/** Throw {@link UnsafeArchiveError} for the first entry that could escape the extraction directory. */
export function checkEntries(archive: string, entries: readonly Entry[]): void {
  const links = new Map<string, string>();
  for (const entry of entries) {
    checkPath(archive, entry);
    if (entry.type === 'SymbolicLink') links.set(normal(entry.path), entry.linkpath ?? '');
  }
  // Links are judged with every symlink of the archive known, since a later one can redirect an earlier one.
  for (const entry of entries) if (entry.type === 'SymbolicLink' || entry.type === 'Link') checkLink(archive, entry, links);
}

/** Walk `rest` from `base` (both relative to the extraction dir), following the archive's symlinks. */
function resolveInside(links: Map<string, string>, base: string[], rest: string[], hops = 0): true | string {
  const stack = [...base];
  for (let i = 0; i < rest.length; i++) {
    const segment = rest[i]!;
    if (segment === '..') {
      if (stack.length === 0) return 'leads outside the archive';
      stack.pop();
      continue;
    }
    stack.push(segment);
    const link = links.get(stack.join('/'));
    if (link === undefined) continue;
    if (hops >= MAX_LINK_HOPS) return 'is a symlink loop';
    if (link.startsWith('/')) return `goes through a symlink to the absolute path ${link}`;
    stack.pop();
    return resolveInside(links, stack, [...segments(link), ...rest.slice(i + 1)], hops + 1);
  }
  return true;
}

const segments = (path: string) => path.split('/').filter((s) => s !== '' && s !== '.');
const normal = (path: string) => segments(path).join('/');
