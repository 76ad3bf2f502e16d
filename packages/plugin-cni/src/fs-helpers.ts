import { posix } from 'node:path';
import type { Host } from '@flexnode/sdk';

/**
 * Create a directory and each missing ancestor one by one, so that every directory this step creates is
 * journaled and uninstall removes it again (a single recursive mkdir would journal only the last one).
 */
export async function ensureDir(host: Host, dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; d !== '/' && (await host.files.stat(d)) === undefined; d = posix.dirname(d)) missing.unshift(d);
  for (const d of missing) await host.files.mkdir(d, { mode: 0o755 });
}

/**
 * `downloads.unpack` returns its staging directory as a path on the machine running flexnode (the real Host
 * stages under `<root>/var/lib/flexnode/staging`), and `copyFrom` takes that path as its source; `files.list`
 * and `files.stat`, though, take target paths and prefix them with the root. This maps a staged path to the
 * target path that reads it (the identity when the root is `/`, as on a node and in the MemoryHost).
 */
export function stagedTarget(host: Host, staged: string): string {
  const root = host.root.replace(/\/+$/, '');
  return root !== '' && staged.startsWith(`${root}/`) ? staged.slice(root.length) : staged;
}
