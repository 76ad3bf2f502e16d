import { defineStep, drifted, missing, ok, Tokens, type Host } from '@flexnode/sdk';

/** Where the settings persist across reboots; the name sorts late so it wins over distro defaults. */
export const SYSCTL_FILE = '/etc/sysctl.d/99-flexnode-kubernetes.conf';

/** Kernel settings the kubelet and pod networking need (see upstream step 4). */
export const KUBERNETES_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_forward': '1',
  'net.bridge.bridge-nf-call-iptables': '1',
  'net.bridge.bridge-nf-call-ip6tables': '1',
};

/** The sysctl.d file content for a set of settings. */
export function renderSysctlFile(settings: Readonly<Record<string, string>>): string {
  const lines = Object.entries(settings).map(([k, v]) => `${k} = ${v}`);
  return `# Written by flexnode (plugin-kube): settings the kubelet and pod networking need.\n${lines.join('\n')}\n`;
}

/** The kernel settings, applied now and persisted in /etc/sysctl.d; previous values are journaled. */
export const kubeSysctl = defineStep({
  id: 'kube.sysctl',
  title: 'Kernel settings for Kubernetes networking',
  after: ['kube.kernel-modules'],
  inject: [Tokens.Host],
  create: (host: Host) => ({
    async check() {
      const file = await host.files.readText(SYSCTL_FILE);
      if (file === undefined) return missing(`${SYSCTL_FILE} does not exist`);
      if (file !== renderSysctlFile(KUBERNETES_SYSCTLS)) return drifted(`${SYSCTL_FILE} differs from what flexnode writes`);
      for (const [key, value] of Object.entries(KUBERNETES_SYSCTLS)) {
        const live = await host.sysctl.get(key);
        if (live?.trim() !== value) return drifted(`${key} is ${live === undefined ? 'absent' : live.trim()}, expected ${value}`);
      }
      return ok();
    },
    async install() {
      await host.files.write(SYSCTL_FILE, renderSysctlFile(KUBERNETES_SYSCTLS), { mode: 0o644 });
      for (const [key, value] of Object.entries(KUBERNETES_SYSCTLS)) await host.sysctl.set(key, value);
    },
    async uninstall() {
      await host.changes.revert();
    },
  }),
});
