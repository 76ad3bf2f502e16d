import { promises as fs } from 'node:fs';
import { dirname, posix } from 'node:path';
import { FlexnodeError, type Change, type HostSysctl } from '@flexnode/sdk';
import type { StepContext } from './context.js';
import { createFiles } from './files.js';
import { readTextNow } from './read-now.js';

/**
 * Kernel parameters through `<root>/proc/sys/<key with dots as slashes>`. On the host root that is the live kernel
 * value; under a sandbox root it is just a file (tests seed it), and a missing key is created there. `set`
 * journals the previous value first; revert writes it back.
 */
export function createSysctl(ctx: StepContext): HostSysctl {
  return {
    get: (key) => readSysctl(ctx, key),
    async set(key, value) {
      const before = await readSysctl(ctx, key);
      if (before !== undefined && normalise(before) === normalise(value)) return false;
      if (ctx.dryRun) {
        ctx.planned('sysctl', key, `${before ?? '(unset)'} → ${value}`);
        return true;
      }
      // Under a sandbox root the key's directories may be missing: created journaled, so revert removes them.
      if (!ctx.paths.isHostRoot) await createFiles(ctx).mkdir(posix.dirname(sysctlTarget(key)));
      await ctx.journal({ kind: 'sysctl', key, before });
      await writeSysctl(ctx, key, value);
      return true;
    },
  };
}

/** Undo: the previous value back; a key that did not exist is removed (only possible under a sandbox root). */
export async function revertSysctl(ctx: StepContext, change: Extract<Change, { kind: 'sysctl' }>): Promise<void> {
  if (change.before !== undefined) {
    const now = await readSysctl(ctx, change.key);
    if (now === undefined || normalise(now) !== normalise(change.before)) await writeSysctl(ctx, change.key, change.before);
  } else if (!ctx.paths.isHostRoot) {
    await fs.rm(sysctlPath(ctx, change.key), { force: true });
  }
}

async function readSysctl(ctx: StepContext, key: string): Promise<string | undefined> {
  return readTextNow(sysctlPath(ctx, key))?.trim();
}

async function writeSysctl(ctx: StepContext, key: string, value: string): Promise<void> {
  const path = sysctlPath(ctx, key);
  // /proc/sys files cannot be replaced by rename: write in place. A sandbox root gets the file created.
  if (!ctx.paths.isHostRoot) await fs.mkdir(dirname(path), { recursive: true });
  try {
    await fs.writeFile(path, `${value}\n`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'the kernel has no such parameter' : (error as Error).message;
    throw new FlexnodeError('SYSCTL_FAILED', `cannot set ${key}=${value}: ${why}`, { cause: error });
  }
  ctx.log.debug(`sysctl ${key}=${value}`);
}

/** `net.ipv4.ip_forward` → `<root>/proc/sys/net/ipv4/ip_forward`; a key in slash form is used as is. */
export function sysctlPath(ctx: StepContext, key: string): string {
  return ctx.paths.resolve(sysctlTarget(key));
}

/** `net.ipv4.ip_forward` → `/proc/sys/net/ipv4/ip_forward` (before the root prefix), or SYSCTL_INVALID. */
function sysctlTarget(key: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_./-]*$/.test(key) || key.split(/[./]/).some((part) => part === '' || part === '..')) {
    throw new FlexnodeError('SYSCTL_INVALID', `invalid sysctl key ${JSON.stringify(key)}`);
  }
  const relative = key.includes('/') ? key : key.replace(/\./g, '/');
  return `/proc/sys/${relative}`;
}

/** Kernel output separates multi-value parameters with tabs; compare them whitespace-insensitively. */
const normalise = (value: string) => value.trim().split(/\s+/).join(' ');
