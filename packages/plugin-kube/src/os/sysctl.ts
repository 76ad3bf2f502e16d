import { defineStep, drifted, missing, ok, Tokens, type FlexnodeConfig, type StepDefinition } from '@flexnode/sdk';
import { kubeSettings } from '../settings.js';

/** Where the settings persist across reboots; the name sorts late so it wins over distro defaults. */
export const SYSCTL_FILE = '/etc/sysctl.d/99-flexnode-kubernetes.conf';

/** Kernel settings pod networking needs (see upstream step 4). */
export const KUBERNETES_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_forward': '1',
  'net.bridge.bridge-nf-call-iptables': '1',
  'net.bridge.bridge-nf-call-ip6tables': '1',
};

/**
 * What the kubelet insists on when it runs with protectKernelDefaults (it refuses to start otherwise): the
 * `desiredState` of the kubelet's setupKernelTunables (pkg/kubelet/cm/container_manager_linux.go) with the
 * constants of k8s.io/component-helpers/node/util/sysctl. Upstream set only the first three and relied on the
 * kernel's defaults for the others; flexnode sets all six so a tuned machine fails nowhere.
 */
export const KERNEL_DEFAULTS_SYSCTLS: Readonly<Record<string, string>> = {
  'vm.overcommit_memory': '1',
  'vm.panic_on_oom': '0',
  'kernel.panic': '10',
  'kernel.panic_on_oops': '1',
  'kernel.keys.root_maxkeys': '1000000',
  'kernel.keys.root_maxbytes': '25000000',
};

/** The settings for a config: networking, plus the kubelet's kernel defaults unless protectKernelDefaults is off. */
export function kubeSysctls(config: FlexnodeConfig): Record<string, string> {
  return kubeSettings(config).protectKernelDefaults ? { ...KUBERNETES_SYSCTLS, ...KERNEL_DEFAULTS_SYSCTLS } : { ...KUBERNETES_SYSCTLS };
}

/** The sysctl.d file content for a set of settings. */
export function renderSysctlFile(settings: Readonly<Record<string, string>>): string {
  const lines = Object.entries(settings).map(([k, v]) => `${k} = ${v}`);
  return `# Written by flexnode (plugin-kube): settings the kubelet and pod networking need.\n${lines.join('\n')}\n`;
}

/**
 * A sysctl step for the settings `settingsOf(config)` returns: applied now and persisted in SYSCTL_FILE; the
 * previous live values and the file's previous content are journaled, so uninstall puts both back. Exported for
 * tests that must stay inside a network namespace (only per-netns keys such as net.ipv4.ip_forward).
 */
export function createSysctlStep(settingsOf: (config: FlexnodeConfig) => Record<string, string>): StepDefinition {
  return defineStep({
    id: 'kube.sysctl',
    title: 'Kernel settings for Kubernetes networking and the kubelet',
    after: ['kube.kernel-modules'],
    inject: { host: Tokens.Host, config: Tokens.Config },
    create: ({ host, config }) => {
      const settings = settingsOf(config);
      return {
        async check() {
          const file = await host.files.readText(SYSCTL_FILE);
          if (file === undefined) return missing(`${SYSCTL_FILE} does not exist`);
          if (file !== renderSysctlFile(settings)) return drifted(`${SYSCTL_FILE} differs from what flexnode writes`);
          for (const [key, value] of Object.entries(settings)) {
            const live = await host.sysctl.get(key);
            if (live?.trim() !== value) return drifted(`${key} is ${live === undefined ? 'absent' : live.trim()}, expected ${value}`);
          }
          return ok();
        },
        async install() {
          await host.files.write(SYSCTL_FILE, renderSysctlFile(settings), { mode: 0o644 });
          for (const [key, value] of Object.entries(settings)) await host.sysctl.set(key, value);
        },
        async uninstall() {
          await host.changes.revert();
        },
      };
    },
  });
}

/** `kube.sysctl`: the kernel settings of {@link kubeSysctls}. */
export const kubeSysctl = createSysctlStep(kubeSysctls);
