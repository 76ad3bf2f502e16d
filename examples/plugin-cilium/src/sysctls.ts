import { Cni, defineStep, drifted, missing, ok, Tokens, type CheckResult } from '@flexnode/sdk';
import { SYSCTL_DIR, SYSCTL_FILE } from './paths.js';

/**
 * Reverse-path filtering off. Cilium routes pod traffic through its own devices (cilium_host, lxc*), which strict
 * or loose rp_filter drops; systemd >= 245 turns it on for every interface (50-default.conf: `*.rp_filter = 2`),
 * and the kernel applies max(conf.all, conf.<dev>), so `all` must be 0 as well as Cilium's devices
 * (cilium/cilium#10645, and Cilium's own sysctlfix which writes the lxc* and cilium_* lines below).
 */
export const LIVE_SYSCTLS: readonly (readonly [string, string])[] = [
  ['net.ipv4.conf.all.rp_filter', '0'],
  ['net.ipv4.conf.default.rp_filter', '0'],
];

/** The same settings for every boot, applied by systemd-sysctl after the distribution's defaults. */
export function sysctlFile(): string {
  return [
    '# Written by flexnode (@org/plugin-cilium): Cilium needs reverse-path filtering off on the devices it routes',
    '# through; the kernel uses max(conf.all, conf.<dev>), so conf.all is 0 too.',
    ...LIVE_SYSCTLS.map(([key, value]) => `${key} = ${value}`),
    'net.ipv4.conf.lxc*.rp_filter = 0',
    'net.ipv4.conf.cilium_*.rp_filter = 0',
    '',
  ].join('\n');
}

/**
 * `cilium.sysctls` (provides `cni`): the rp_filter settings Cilium expects, live now (each journaled with its
 * previous value, so uninstall and unbootstrap put it back) and in /etc/sysctl.d for the next boot.
 */
export const ciliumSysctls = defineStep({
  id: 'cilium.sysctls',
  title: 'sysctls Cilium expects (rp_filter off)',
  provides: [Cni],
  after: ['cilium.kernel'],
  inject: { host: Tokens.Host },
  create: ({ host }) => {
    const file = sysctlFile();
    const check = async (): Promise<CheckResult> => {
      const current = await host.files.readText(SYSCTL_FILE);
      const wrong: string[] = [];
      for (const [key, value] of LIVE_SYSCTLS) {
        const now = await host.sysctl.get(key);
        if (now?.trim() !== value) wrong.push(`${key} is ${now ?? '(unset)'}, Cilium needs ${value}`);
      }
      if (current === undefined) return missing([`${SYSCTL_FILE} is absent`, ...wrong].join('; '));
      if (current !== file) return drifted([`${SYSCTL_FILE} differs from the expected settings`, ...wrong].join('; '));
      if (wrong.length > 0) return drifted(wrong.join('; '));
      return ok(LIVE_SYSCTLS.map(([k, v]) => `${k}=${v}`).join(', '));
    };
    return {
      check,
      install: async () => {
        await host.files.mkdir(SYSCTL_DIR);
        await host.files.write(SYSCTL_FILE, file, { mode: 0o644 });
        for (const [key, value] of LIVE_SYSCTLS) await host.sysctl.set(key, value);
      },
      uninstall: () => host.changes.revert(),
    };
  },
});
