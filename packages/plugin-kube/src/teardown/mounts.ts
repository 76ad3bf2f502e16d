import type { Host } from '@flexnode/sdk';

/** Mount points of /proc/self/mountinfo (field 5), with the kernel's octal escapes (`\040` for a space) undone. */
export function mountPoints(mountinfo: string): string[] {
  return mountinfo
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m)
    .map((m) => m.replace(/\\([0-7]{3})/g, (_s, o: string) => String.fromCharCode(parseInt(o, 8))));
}

/**
 * Unmount what is mounted under `dir` (the kubelet's pod volumes, its plugins' mounts), deepest first: a plain
 * umount, a lazy one (`-l`) when busy. Nothing is deleted here (./kubelet-state.ts removes the kubelet's state after).
 * Returns what was unmounted and what could not be.
 */
export async function unmountUnder(host: Host, dir: string): Promise<{ unmounted: string[]; failed: string[] }> {
  const points = [...new Set(mountPoints((await host.files.readText('/proc/self/mountinfo')) ?? '').filter((m) => m.startsWith(`${dir}/`)))];
  points.sort((a, b) => b.split('/').length - a.split('/').length || b.localeCompare(a));
  const unmounted: string[] = [];
  const failed: string[] = [];
  for (const point of points) {
    const plain = await host.exec.run('umount', [point], { allowFailure: true, describe: `unmount ${point} (mounted by the kubelet)` });
    const lazy =
      plain.exitCode === 0 ? plain : await host.exec.run('umount', ['-l', point], { allowFailure: true, describe: `unmount ${point} lazily (busy)` });
    (lazy.exitCode === 0 ? unmounted : failed).push(point);
  }
  return { unmounted, failed };
}
