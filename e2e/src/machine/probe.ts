// Says whether this host can boot a machine in a box, and if not, exactly what is missing, so tests
// SKIP with a reason instead of failing or passing silently.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCommand, run } from '../mirror/run.js';
import { debianMirror, rootfsPaths } from './rootfs.js';

export interface ProbeResult {
  ok: boolean;
  missing: string[];
}

let cached: Promise<ProbeResult> | undefined;

/** Checks root, systemd-nspawn, nsenter, ip netns, overlayfs (a real mount) and a way to get the rootfs. */
export function probeMachineSupport(): Promise<ProbeResult> {
  cached ??= probe();
  return cached;
}

async function probe(): Promise<ProbeResult> {
  const missing: string[] = [];
  if (process.platform !== 'linux') return { ok: false, missing: [`linux (this is ${process.platform})`] };
  if (process.getuid?.() !== 0) missing.push('root (run the tests as root)');
  for (const cmd of ['systemd-nspawn', 'nsenter', 'ip', 'mount', 'umount', 'tar']) {
    if (!(await hasCommand(cmd))) missing.push(`${cmd} command (run .ci/setup-host.sh)`);
  }
  if (!existsSync(rootfsPaths().tar)) {
    if (!(await hasCommand('debootstrap'))) missing.push('debootstrap command to build the rootfs (run .ci/setup-host.sh)');
    else if (!(await debianMirror())) missing.push('a Debian mirror in /etc/apt/sources.list* (or FLEXNODE_DEBIAN_MIRROR)');
  }
  if (missing.length) return { ok: false, missing };
  const fs = await readFile('/proc/filesystems', 'utf8').catch(() => '');
  if (!/\boverlay\b/.test(fs)) missing.push('overlayfs in the kernel (/proc/filesystems)');
  else if (!(await overlayMounts())) missing.push('permission to mount overlayfs (CAP_SYS_ADMIN)');
  if ((await run(['ip', 'netns', 'list'], { allowFailure: true, timeoutMs: 5000 })).exitCode !== 0) missing.push('`ip netns list` to work');
  if (!existsSync('/sys/fs/cgroup')) missing.push('/sys/fs/cgroup');
  return { ok: missing.length === 0, missing };
}

/** A real overlay mount and unmount in a temp dir: proves the kernel and our privileges both allow it. */
async function overlayMounts(): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), 'probe-ovl-'));
  try {
    for (const d of ['l', 'u', 'w', 'm']) await mkdir(join(dir, d));
    const m = await run(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${dir}/l,upperdir=${dir}/u,workdir=${dir}/w`, `${dir}/m`], {
      allowFailure: true,
    });
    if (m.exitCode !== 0) return false;
    await run(['umount', `${dir}/m`]);
    return true;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** For mocha's before(): logs `SKIP: <reasons>` and skips the suite when the host cannot boot a machine. */
export async function skipUnlessMachineSupported(ctx: Mocha.Context): Promise<void> {
  const { ok, missing } = await probeMachineSupport();
  if (!ok) {
    console.log(`SKIP: node-in-a-box needs ${missing.join(', ')}`);
    ctx.skip();
  }
}
