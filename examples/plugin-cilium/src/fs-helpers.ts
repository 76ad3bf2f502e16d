import { posix } from 'node:path';
import type { Host } from '@flexnode/sdk';

/**
 * Create a directory and each missing ancestor one by one, so that every directory created is journaled and
 * uninstall removes it again (a single recursive mkdir would journal only the last one). Steps run in
 * parallel: a directory another step created meanwhile is fine (that step journals it).
 */
export async function ensureDir(host: Host, dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; d !== '/' && (await host.files.stat(d)) === undefined; d = posix.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      await host.files.mkdir(d, { mode: 0o755 });
    } catch (error) {
      if ((await host.files.stat(d))?.type !== 'dir') throw error;
    }
  }
}

/** A machine path as this process sees it: under the Host's root (commands run on this host, not in the root). */
export function onThisHost(host: Host, path: string): string {
  return host.root === '/' || host.root === '' ? path : posix.join(host.root, path);
}
