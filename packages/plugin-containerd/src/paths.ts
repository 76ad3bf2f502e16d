/** Where the release steps put things; the same paths upstream's tool and containerd's own unit use. */
export const Paths = {
  runc: '/usr/bin/runc',
  /** containerd's tarball holds `bin/*`; they land here, where the unit's ExecStart expects containerd. */
  binDir: '/usr/bin',
  configDir: '/etc/containerd',
  config: '/etc/containerd/config.toml',
  /** Drop-ins a user may add; the generated config imports them so local additions survive re-installs. */
  configDropIns: '/etc/containerd/conf.d/*.toml',
  certsDir: '/etc/containerd/certs.d',
  unitDir: '/etc/systemd/system',
  unit: '/etc/systemd/system/containerd.service',
  /** The config's proxy for containerd (image pulls): 0600, it may hold a password. */
  environmentFile: '/etc/containerd/flexnode-proxy.env',
  socket: '/run/containerd/containerd.sock',
} as const;

/** The systemd unit name. */
export const UNIT = 'containerd.service';
