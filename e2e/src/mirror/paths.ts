// Where the e2e caches live: <repo>/.cache by default (gitignored), overridable for CI or scratch builds.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The monorepo root: the nearest ancestor of this module whose package.json declares workspaces. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).workspaces) return dir;
      } catch {
        /* keep walking */
      }
    }
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** `<repo>/.cache/<sub>`, or `$FLEXNODE_E2E_CACHE/<sub>` when set. */
export function cacheDir(sub: string): string {
  const base = process.env.FLEXNODE_E2E_CACHE ? resolve(process.env.FLEXNODE_E2E_CACHE) : join(repoRoot(), '.cache');
  return join(base, sub);
}
