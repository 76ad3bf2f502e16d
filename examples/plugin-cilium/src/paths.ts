import type { FlexnodeConfig } from '@flexnode/sdk';

/** The package name: the key of this plugin's settings under `pluginConfig` and the name core knows it by. */
export const PLUGIN_NAME = '@org/plugin-cilium';

/** Where Cilium pins its BPF maps; it must be a bpffs mounted in the host's mount namespace. */
export const BPFFS = '/sys/fs/bpf';
/**
 * The unit that mounts it at boot when nothing else does. Not `sys-fs-bpf.mount`: systemd mounts bpffs at
 * /sys/fs/bpf itself as an API file system (every systemd on the Ubuntu releases flexnode supports) and refuses
 * a mount unit for that path ("Cannot create mount unit for API file system /sys/fs/bpf. Refusing.").
 */
export const BPFFS_UNIT = 'flexnode-cilium-bpffs.service';
export const UNIT_DIR = '/etc/systemd/system';
export const BPFFS_UNIT_PATH = `${UNIT_DIR}/${BPFFS_UNIT}`;
/** The kernel's mount table, read through the Host (so under `--root` in sandboxes and tests). */
export const PROC_MOUNTS = '/proc/mounts';

/** The persistent sysctl file; `99-zzz-` sorts after the distribution's files (systemd's 50-default.conf sets rp_filter). */
export const SYSCTL_DIR = '/etc/sysctl.d';
export const SYSCTL_FILE = `${SYSCTL_DIR}/99-zzz-flexnode-cilium.conf`;

/** plugin-cni's default network, which must not compete with Cilium's own 05-cilium.conflist. */
export const BRIDGE_CONFLIST = '99-bridge.conflist';

/** Where Cilium's agent installs its CNI binary and writes 05-cilium.conflist: the standard directories, or `paths.cni`. */
export function ciliumCniDirs(config: FlexnodeConfig): { binDir: string; confDir: string } {
  return { binDir: config.paths?.cni?.binDir ?? '/opt/cni/bin', confDir: config.paths?.cni?.confDir ?? '/etc/cni/net.d' };
}

/** `<paths.cni.confDir>/99-bridge.conflist`, the same file plugin-cni writes. */
export function bridgeConfigPath(config: FlexnodeConfig): string {
  return `${ciliumCniDirs(config).confDir}/${BRIDGE_CONFLIST}`;
}
