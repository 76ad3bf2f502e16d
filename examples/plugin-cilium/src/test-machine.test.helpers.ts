import { gzipSync } from 'node:zlib';
import { MemoryHost } from '@flexnode/sdk/testing';
import { REQUIRED_KERNEL_OPTIONS } from './settings.js';

export const BASE_MOUNTS = 'proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\nsysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n';
export const BPF_MOUNT = 'bpf /sys/fs/bpf bpf rw,nosuid,nodev,noexec,relatime,mode=700 0 0\n';
export const BRIDGE = '/etc/cni/net.d/99-bridge.conflist';

/** A kernel .config with Cilium's options (some as modules) and `unset` left out. */
export function kernelConfigText(unset: readonly string[] = []): string {
  return [
    '# Linux/x86 6.8.0 Kernel Configuration',
    ...REQUIRED_KERNEL_OPTIONS.map((o, i) => (unset.includes(o) ? `# ${o} is not set` : `${o}=${i % 3 === 0 ? 'm' : 'y'}`)),
    'CONFIG_LOCALVERSION="-generic"',
    '',
  ].join('\n');
}

export interface MachineOptions {
  release?: string;
  /** Where the kernel config lives: /boot/config-RELEASE, /proc/config.gz, or nowhere. */
  kconfig?: 'boot' | 'proc' | 'none';
  unset?: string[];
  bpffsMounted?: boolean;
  bridgeConfig?: boolean;
  rpFilter?: string;
}

/**
 * A MemoryHost shaped like an Ubuntu node before Cilium: kernel release and config, the mount table, rp_filter
 * as systemd sets it, plugin-cni's bridge config; `mount`/`umount` update /proc/mounts as the kernel would.
 */
export function machine(options: MachineOptions = {}): MemoryHost {
  const release = options.release ?? '6.8.0-45-generic';
  const host = new MemoryHost();
  host.seedFile('/proc/sys/kernel/osrelease', `${release}\n`);
  const kconfig = options.kconfig ?? 'boot';
  if (kconfig === 'boot') host.seedFile(`/boot/config-${release}`, kernelConfigText(options.unset));
  if (kconfig === 'proc') host.seedFile('/proc/config.gz', gzipSync(kernelConfigText(options.unset)));
  host.seedFile('/proc/mounts', BASE_MOUNTS + (options.bpffsMounted ? BPF_MOUNT : ''));
  host.sysctls.set('net.ipv4.conf.all.rp_filter', options.rpFilter ?? '2');
  host.sysctls.set('net.ipv4.conf.default.rp_filter', options.rpFilter ?? '2');
  if (options.bridgeConfig) host.seedFile(BRIDGE, '{"cniVersion":"1.0.0","name":"flexnode-bridge","plugins":[]}\n');
  const mounts = () => host.files.get('/proc/mounts')!;
  host.onExec('mount', (args) => {
    if (args.join(' ') !== '-t bpf bpffs /sys/fs/bpf') return { exitCode: 32, stdout: '', stderr: `unexpected mount ${args.join(' ')}` };
    mounts().content = Buffer.concat([mounts().content, Buffer.from(BPF_MOUNT)]);
    return { exitCode: 0, stdout: '', stderr: '' };
  });
  host.onExec('umount', (args) => {
    const text = mounts().content.toString();
    if (args[0] !== '/sys/fs/bpf' || !text.includes(BPF_MOUNT)) return { exitCode: 32, stdout: '', stderr: 'not mounted' };
    mounts().content = Buffer.from(text.replace(BPF_MOUNT, ''));
    return { exitCode: 0, stdout: '', stderr: '' };
  });
  return host;
}
