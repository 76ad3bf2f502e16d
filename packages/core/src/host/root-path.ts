import { promises as fs } from 'node:fs';
import { dirname, posix, resolve } from 'node:path';
import { FlexnodeError } from '@flexnode/sdk';

/**
 * Maps the target machine's absolute paths (`/etc/containerd/config.toml`) to paths on this host under the
 * `--root` prefix, and refuses any path that would leave the root: a `..` climbing above `/`, or (before a
 * mutation) a parent directory that is a symlink pointing outside the root. Reads are not checked that way: a
 * sandbox whose symlinks point at host paths reads the host's files (harmless, and what a chroot-less sandbox is).
 */
export class RootPaths {
  readonly root: string;
  private realRoot: Promise<string> | undefined;

  constructor(root: string) {
    this.root = resolve(root);
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
      if (depth < 0) throw new FlexnodeError('PATH_ESCAPES_ROOT', `path ${target} escapes the root ${this.root} through ".."`);
    }
    const normal = posix.normalize(target);
    if (this.isHostRoot) return normal;
    return normal === '/' ? this.root : `${this.root}${normal}`;
  }

  /** The target path of a host path under the root (for messages and journal entries). */
  toTarget(hostPath: string): string {
    if (this.isHostRoot) return hostPath;
    return hostPath === this.root ? '/' : hostPath.slice(this.root.length);
  }

  /**
   * Before changing `hostPath`: the deepest existing ancestor of its parent, with symlinks resolved, must still be
   * inside the root (a sandbox's `/etc -> /host/etc` link must not redirect a write onto the real host).
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
