import { posix } from 'node:path';
import type { Host } from '@flexnode/sdk';

/** A machine path as this process sees it: under the Host's root (commands run on this host, not in the root). */
export function onThisHost(host: Host, path: string): string {
  return host.root === '/' || host.root === '' ? path : posix.join(host.root, path);
}
