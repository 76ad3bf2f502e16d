/** The package name: the key of this plugin's settings in the config's `pluginConfig`. */
export const PLUGIN_NAME = '@org/plugin-crio-config';

/** Where CRI-O's packages (Kubernetes' cri-o repositories, Debian's and Ubuntu's cri-o) put things. */
export const Paths = {
  crio: '/usr/bin/crio',
  /** CRI-O reads drop-ins in lexical order after crio.conf: this one sets only what the node needs. */
  dropInDir: '/etc/crio/crio.conf.d',
  dropIn: '/etc/crio/crio.conf.d/10-flexnode.conf',
  socket: '/var/run/crio/crio.sock',
} as const;

/** CRI-O's systemd unit, as its packages install it. */
export const UNIT = 'crio.service';
