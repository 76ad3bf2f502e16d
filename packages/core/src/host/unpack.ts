import { promises as fs } from 'node:fs';
import { join, posix } from 'node:path';
import { FlexnodeError, UnsafeArchiveError } from '@flexnode/sdk';
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
const MAX_LINK_HOPS = 40;

/**
 * Unpack a verified tar(.gz) into a fresh private staging directory `<stateDir>/staging/<random>` (mode 0700)
 * and return it. The whole listing is checked first and any entry that could write or point outside the staging
 * directory (absolute path, `..`, a symlink or hardlink leading out, even through other links of the archive,
 * a device or fifo) refuses the archive before a single byte is written. The Host's dispose() removes staging.
 */
export async function unpackArchive(ctx: StepContext, archivePath: string, artifactName?: string): Promise<string> {
  const shown = artifactName ? `${artifactName} (cached as ${archivePath})` : archivePath;
  const stagingRoot = join(ctx.shared.stateDir, 'staging');
  if (ctx.dryRun) return join(stagingRoot, 'dry-run'); // a placeholder: a dry run writes nothing
  const tar = await loadTar();
  const entries: Entry[] = [];
  try {
    await tar.t({ file: archivePath, strict: true, onReadEntry: (e) => entries.push({ path: e.path, type: e.type, linkpath: e.linkpath ?? undefined }) });
  } catch (error) {
    throw new FlexnodeError('ARCHIVE_INVALID', `${shown} is not a readable tar archive: ${(error as Error).message}`, { cause: error });
  }
  checkEntries(shown, entries);

  await fs.mkdir(stagingRoot, { recursive: true, mode: 0o700 });
  const dir = await fs.mkdtemp(join(stagingRoot, 'unpack-'));
  ctx.shared.staging.add(dir);
  try {
    await tar.x({
      file: archivePath,
      cwd: dir,
      strict: true, // a warning (e.g. a path node-tar itself finds unsafe) is an error
      preserveOwner: false, // staged files belong to us; the Host sets owners on install
      chmod: true,
      processUmask: 0, // modes exactly as in the archive (executables stay executable)
      filter: () => (crashPoint('unpack:entry'), true), // `unpack:entry#N`: killed with N-1 entries out
    });
  } catch (error) {
    await fs.rm(dir, { recursive: true, force: true });
    ctx.shared.staging.delete(dir);
    throw new FlexnodeError('ARCHIVE_INVALID', `could not unpack ${shown}: ${(error as Error).message}`, { cause: error });
  }
  ctx.log.debug(`unpacked ${archivePath} (${entries.length} entries) into ${dir}`);
  return dir;
}

/** Throw {@link UnsafeArchiveError} for the first entry that could escape the extraction directory. */
export function checkEntries(archive: string, entries: readonly Entry[]): void {
  const links = new Map<string, string>();
  for (const entry of entries) {
    if (!SAFE_TYPES.has(entry.type)) throw new UnsafeArchiveError(archive, entry.path, `${entry.type} entries are not allowed`);
    if (entry.path.startsWith('/') || /^[A-Za-z]:/.test(entry.path)) throw new UnsafeArchiveError(archive, entry.path, 'absolute path');
    if (entry.path.split(/[\\/]/).includes('..')) throw new UnsafeArchiveError(archive, entry.path, '".." in the path');
    if (entry.type === 'SymbolicLink') links.set(normal(entry.path), entry.linkpath ?? '');
  }
  // Links are judged with every symlink of the archive known, since a later one can redirect an earlier one.
  for (const entry of entries) {
    if (entry.type !== 'SymbolicLink' && entry.type !== 'Link') continue;
    const target = entry.linkpath ?? '';
    if (target === '') throw new UnsafeArchiveError(archive, entry.path, 'link without a target');
    if (target.startsWith('/')) throw new UnsafeArchiveError(archive, entry.path, `link to the absolute path ${target}`);
    // A symlink's target is relative to its directory; a hardlink's to the archive root.
    const from = entry.type === 'SymbolicLink' ? segments(posix.dirname(normal(entry.path))) : [];
    const where = resolveInside(links, from, segments(target));
    if (where !== true) throw new UnsafeArchiveError(archive, entry.path, `link to ${target} ${where}`);
  }
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
