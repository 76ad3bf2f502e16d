/** The package name: the key of this plugin's settings in the config's `pluginConfig`. */
export const PLUGIN_NAME = '@org/plugin-crun';

/** Where the distribution's containerd and crun packages put things (Debian and Ubuntu alike). */
export const Paths = {
  configDir: '/etc/containerd',
  /** containerd's config; the containerd package ships a default one (a conffile), which this plugin replaces. */
  config: '/etc/containerd/config.toml',
  containerd: '/usr/bin/containerd',
  crun: '/usr/bin/crun',
  socket: '/run/containerd/containerd.sock',
  /** The registry hosts directory containerd's CRI plugin reads (certs.d/<host>/hosts.toml). */
  certsDir: '/etc/containerd/certs.d',
  optDir: '/var/lib/containerd/opt',
} as const;

/** The systemd unit the containerd package installs (/lib/systemd/system/containerd.service). */
export const UNIT = 'containerd.service';

/** The packages: containerd (which pulls in runc, unused here) and crun, the OCI runtime it is configured with. */
export const PACKAGES = ['containerd', 'crun'] as const;

/** The CRI runtime handler name this plugin configures and makes the default. */
export const RUNTIME_HANDLER = 'crun';
