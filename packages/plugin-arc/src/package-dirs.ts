import { FlexnodeError, underRoot, type Host } from '@flexnode/sdk';
import { lastLine } from './azcmagent.js';

/**
 * dpkg removes a package's directories once they are empty and no other package lists them, also a directory that
 * was there before the package came (e.g. /opt, which on Debian no package owns). So before flexnode installs the
 * agent's package it notes which of the package's directories exist already, and after it purges the package it
 * puts back any of them dpkg took away: unbootstrap restores the machine as it was.
 */

export interface DirState {
  path: string;
  mode: number;
  uid: number;
  gid: number;
  [key: string]: unknown;
}

/** The directories of a `dpkg-deb --contents` listing (tar's verbose format), as absolute paths. */
export function debDirectories(listing: string): string[] {
  const dirs: string[] = [];
  for (const line of listing.split('\n')) {
    const m = /^d\S+\s+\S+\s+\d+\s+\S+\s+\S+\s+\.(\/.*?)\/?$/.exec(line.trim());
    if (m && m[1] && m[1] !== '/') dirs.push(m[1]);
  }
  return dirs;
}

/** Those of the package's directories (file `deb` on this host) that exist on the machine now. */
export async function existingPackageDirs(host: Host, deb: string): Promise<DirState[]> {
  const listing = await host.exec.run('dpkg-deb', ['--contents', deb], { mutates: false, allowFailure: true, timeoutMs: 60_000 });
  if (listing.exitCode !== 0) throw new FlexnodeError('ARC_AGENT_PACKAGE', `cannot read the package ${deb}: ${lastLine(listing.stderr || listing.stdout)}`);
  const out: DirState[] = [];
  for (const path of debDirectories(listing.stdout)) {
    const info = await host.files.stat(path);
    if (info?.type === 'dir') out.push({ path, mode: info.mode & 0o7777, uid: info.uid, gid: info.gid });
  }
  return out;
}

/** Recreate (parents first) the directories that were there before the package and are gone with it. */
export async function restorePackageDirs(host: Host, dirs: readonly DirState[]): Promise<void> {
  for (const dir of [...dirs].sort((a, b) => a.path.length - b.path.length)) {
    if (await host.files.stat(dir.path)) continue;
    await host.exec.run(
      'install',
      ['-d', '-m', dir.mode.toString(8).padStart(4, '0'), '-o', String(dir.uid), '-g', String(dir.gid), '--', underRoot(host.root, dir.path)],
      {
        describe: `put back ${dir.path}, which existed before the agent's package and was removed with it`,
      },
    );
  }
}
