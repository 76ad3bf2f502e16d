import { gunzipSync } from 'node:zlib';
import type { Host } from '@flexnode/sdk';

/** `6.8.0-45-generic` → [6, 8, 0]; undefined when the release does not start with a version. */
export function parseKernelVersion(release: string): [number, number, number] | undefined {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release.trim());
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

/** Negative, zero or positive as `a` is older than, equal to or newer than `b`. */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The options of a kernel `.config`: `CONFIG_X=y` → X: 'y'; `# CONFIG_X is not set` → X: 'n'. */
export function parseKernelConfig(text: string): Map<string, string> {
  const options = new Map<string, string>();
  for (const line of text.split('\n')) {
    const set = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line.trim());
    if (set) {
      options.set(set[1]!, set[2]!.replace(/^"(.*)"$/, '$1'));
      continue;
    }
    const unset = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/.exec(line.trim());
    if (unset) options.set(unset[1]!, 'n');
  }
  return options;
}

/** The running kernel's release: `/proc/sys/kernel/osrelease`, else `uname -r` (read-only, so it runs in a dry run too). */
export async function kernelRelease(host: Host): Promise<string> {
  const file = (await host.files.readText('/proc/sys/kernel/osrelease'))?.trim();
  if (file) return file;
  const uname = await host.exec.run('uname', ['-r'], { mutates: false, timeoutMs: 10_000 });
  return uname.stdout.trim();
}

/** The running kernel's build config: `/boot/config-<release>`, else `/proc/config.gz`; undefined when neither exists. */
export async function kernelConfig(host: Host, release: string): Promise<{ source: string; options: Map<string, string> } | undefined> {
  const boot = `/boot/config-${release}`;
  const text = await host.files.readText(boot);
  if (text !== undefined) return { source: boot, options: parseKernelConfig(text) };
  const gz = await host.files.read('/proc/config.gz');
  if (gz !== undefined) return { source: '/proc/config.gz', options: parseKernelConfig(gunzipSync(gz).toString('utf8')) };
  return undefined;
}
