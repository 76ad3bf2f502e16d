// A local Debian package repository (a "flat" repository: the .debs and a Packages index in one directory) made
// from the host's apt sources, for machines that have no route to a Debian mirror: an air-gapped site's own
// apt mirror, in small. Cached per package list; apt-get download and apt-ftparchive do the work.
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withFileLock } from '../machine/lock.js';
import { cacheDir } from './paths.js';
import { hasCommand, run } from './run.js';

/** What a machine needs to use the repository: bind `dir` read-only at `mountPoint` and add `sourcesLine`. */
export interface AptRepo {
  dir: string;
  mountPoint: string;
  /** The one-line apt source for it (trusted: the test made it from the host's verified downloads). */
  sourcesLine: string;
}

const MOUNT_POINT = '/srv/flexnode-debs';

/** Why a repository cannot be made here, or undefined when it can. */
export async function aptRepoUnavailable(): Promise<string | undefined> {
  for (const cmd of ['apt-get', 'apt-ftparchive']) if (!(await hasCommand(cmd))) return `${cmd} is not installed (apt-utils)`;
  return undefined;
}

/** The repository holding exactly `packages` (the host's candidate versions), built once and cached. */
export async function buildAptRepo(packages: readonly string[]): Promise<AptRepo> {
  const dir = cacheDir(`apt-repo/${[...packages].sort().join('+')}`);
  const repo = { dir, mountPoint: MOUNT_POINT, sourcesLine: `deb [trusted=yes] file:${MOUNT_POINT} ./\n` };
  if (existsSync(join(dir, 'Packages'))) return repo;
  await mkdir(cacheDir('apt-repo'), { recursive: true });
  return withFileLock(`${dir}.lock`, async () => {
    if (existsSync(join(dir, 'Packages'))) return repo;
    const work = `${dir}.tmp-${process.pid}`;
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    await run(['apt-get', 'download', ...packages], { cwd: work, timeoutMs: 300_000 });
    const debs = (await readdir(work)).filter((f) => f.endsWith('.deb'));
    if (debs.length !== packages.length) throw new Error(`apt-get download gave ${debs.join(', ')} for ${packages.join(', ')}`);
    const index = await run(['apt-ftparchive', 'packages', '.'], { cwd: work });
    await writeFile(join(work, 'Packages'), index.stdout);
    await rename(work, dir);
    return repo;
  });
}
