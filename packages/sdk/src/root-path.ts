import { promises as fs, statSync } from 'node:fs';
import { dirname, posix, resolve } from 'node:path';
import { ExitCode, FlexnodeError } from './errors.js';

/**
 * The one `--root` path mapper. Core's Host, the CLI and every plugin map the target machine's absolute paths
 * (`/etc/containerd/config.toml`) to paths on the machine running flexnode (under the `--root` prefix) through
 * this class, so a path that climbs out of the root is refused in one place:
 * - a relative path, a NUL byte, or `..` segments that climb above `/` throw `PATH_ESCAPES_ROOT`/`PATH_INVALID`;
 * - before a mutation, {@link RootPaths.assertInside} refuses a parent directory that is a symlink leading outside
 *   the root (a sandbox's `/etc -> /host/etc` must not redirect a write onto the real host).
 * Reads are not checked for symlinks: a sandbox whose links point at host paths reads the host's files.
 */
export class RootPaths {
  readonly root: string;
  private realRoot: Promise<string> | undefined;

  /** Throws (exit 2) on an empty root: an empty `--root` or `FLEXNODE_ROOT` never silently means `/`. */
  constructor(root: string) {
    this.root = resolve(checkRoot(root));
  }

  get isHostRoot(): boolean {
    return this.root === '/';
  }

  /** The host path of a target path. Throws on a relative path or one that climbs out of the root. */
  resolve(target: string): string {
    if (typeof target !== 'string' || !target.startsWith('/')) {
      throw new FlexnodeError('PATH_INVALID', `expected an absolute path, got ${JSON.stringify(target)}`);
    }
    if (target.includes('\0')) throw new FlexnodeError('PATH_INVALID', `path contains a NUL byte: ${JSON.stringify(target)}`);
    let depth = 0;
    for (const segment of target.split('/')) {
      if (segment === '..') depth--;
      else if (segment !== '' && segment !== '.') depth++;
      if (depth < 0) throw new FlexnodeError('PATH_ESCAPES_ROOT', `path ${JSON.stringify(target)} escapes the root ${this.root} through ".."`);
    }
    const normal = posix.normalize(target);
    if (this.isHostRoot) return normal;
    return normal === '/' ? this.root : `${this.root}${normal}`;
  }

  /** The target path of a host path under the root (for messages, journal entries and staged downloads). */
  toTarget(hostPath: string): string {
    if (this.isHostRoot) return hostPath;
    if (hostPath === this.root) return '/';
    return hostPath.startsWith(`${this.root}/`) ? hostPath.slice(this.root.length) : hostPath;
  }

  /**
   * Before changing `hostPath`: the deepest existing ancestor of its parent, with symlinks resolved, must still be
   * inside the root.
   */
  async assertInside(hostPath: string): Promise<void> {
    if (this.isHostRoot) return;
    this.realRoot ??= fs.realpath(this.root).catch(() => this.root);
    const realRoot = await this.realRoot;
    let dir = dirname(hostPath);
    for (;;) {
      try {
        const real = await fs.realpath(dir);
        if (real === realRoot || real.startsWith(`${realRoot}/`)) return;
        throw new FlexnodeError('PATH_ESCAPES_ROOT', `${this.toTarget(hostPath)}: ${this.toTarget(dir)} resolves to ${real}, outside the root ${this.root}`);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
        if (dir === this.root || dir === '/') return;
        dir = dirname(dir);
      }
    }
  }
}

/**
 * A `--root` value as given (flag or `FLEXNODE_ROOT`): refused (exit 2) when empty or holding a control
 * character, so `FLEXNODE_ROOT=""` is an error and never the real host `/`.
 */
export function checkRoot(root: string): string {
  if (typeof root !== 'string' || root.trim() === '') {
    throw new FlexnodeError('ROOT_INVALID', '--root (or FLEXNODE_ROOT) is empty', {
      exitCode: ExitCode.Usage,
      hint: 'pass --root / for this machine, or a directory for a sandbox; unset FLEXNODE_ROOT if it is empty',
    });
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(root)) {
    throw new FlexnodeError('ROOT_INVALID', `--root ${JSON.stringify(root)} holds a control character`, { exitCode: ExitCode.Usage });
  }
  // One that does not exist yet is a sandbox to fill; one that is a file can hold nothing (every path under it
  // would fail with ENOTDIR, after the run had started).
  let isDirectory = true;
  try {
    isDirectory = statSync(root).isDirectory();
  } catch {
    // absent or unreadable: the run says so where it matters
  }
  if (!isDirectory) {
    throw new FlexnodeError('ROOT_INVALID', `--root ${JSON.stringify(root)} is not a directory`, {
      exitCode: ExitCode.Usage,
      hint: 'pass --root / for this machine, or a directory for a sandbox',
    });
  }
  return root;
}

/**
 * Why `value` is not an absolute, normalised path (no `.`/`..` segment, no `//`, no control character), or
 * undefined when it is one: the config schema's rule for path fields, and the CLI's for path flags.
 */
export function pathProblem(value: string): string | undefined {
  if (!value.startsWith('/')) return 'expected an absolute path (starting with /)';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) return 'expected a path without control characters';
  if (value.split('/').some((s) => s === '..')) return 'expected a path without ".." segments';
  if (value !== value.trim()) return 'expected a path without leading or trailing whitespace';
  if (posix.normalize(value) !== value) return 'expected a normalised path (no "." segments, no "//")';
  return undefined;
}

/**
 * `FLEXNODE_ROOT` set but empty is refused (exit 2). Command-line parsers (oclif's) take an empty variable as
 * unset and would fall back to `/`: the real host, the opposite of what someone who set it wanted.
 */
export function checkRootEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  if (env.FLEXNODE_ROOT !== undefined) checkRoot(env.FLEXNODE_ROOT);
}

/** `new RootPaths(root).resolve(target)`: the host path of one target path under `root`, refused when it escapes. */
export function underRoot(root: string, target: string): string {
  return new RootPaths(root).resolve(target);
}
