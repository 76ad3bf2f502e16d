import { drifted, missing, ok, type FlexnodeConfig, type Host, type StepInstance } from '@flexnode/sdk';
import { kubeSettings } from '../settings.js';

/** Where the settings persist across reboots; the name sorts late so it wins over distro defaults. */
export const SYSCTL_FILE = '/etc/sysctl.d/99-flexnode-kubernetes.conf';

/** Kernel settings pod networking needs (upstream's step 4; AKS's 99-force-bridge-forward.conf). */
export const KUBERNETES_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_forward': '1',
  'net.ipv4.conf.all.forwarding': '1',
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

/**
 * The kernel limits AKS sets on its nodes (AgentBaker parts/linux/cloud-init/artifacts/sysctl-d-60-CIS.conf): room
 * for many pods' processes (PID_MAX_LIMIT of 64-bit kernels) and file watches (Azure/AKS#772; Ubuntu 22.04 has
 * only 128 inotify instances).
 */
export const KERNEL_TUNING_SYSCTLS: Readonly<Record<string, string>> = {
  'kernel.pid_max': '4194304',
  'fs.inotify.max_user_watches': '1048576',
  'fs.inotify.max_user_instances': '1024',
};

/**
 * The settings for a config: networking; the kubelet's kernel defaults unless protectKernelDefaults is off; AKS's
 * kernel limits unless kernelTuning is off.
 */
export function kubeSysctls(config: FlexnodeConfig): Record<string, string> {
  const settings = kubeSettings(config);
  return {
    ...KUBERNETES_SYSCTLS,
    ...(settings.protectKernelDefaults ? KERNEL_DEFAULTS_SYSCTLS : {}),
    ...(settings.kernelTuning ? KERNEL_TUNING_SYSCTLS : {}),
  };
}

/** The sysctl.d file content for a set of settings. */
export function renderSysctlFile(settings: Readonly<Record<string, string>>): string {
  const lines = Object.entries(settings).map(([k, v]) => `${k} = ${v}`);
  return `# Written by flexnode (plugin-kube): settings the kubelet and pod networking need.\n${lines.join('\n')}\n`;
}

/**
 * The operations of `kube.sysctl` (steps.ts) for the settings `settingsOf(config)` returns: applied now and
 * persisted in SYSCTL_FILE; the previous live values and the file's previous content are journaled, so uninstall
 * puts both back.
 */
export function sysctlOps(
  { host, config }: { host: Host; config: FlexnodeConfig },
  settingsOf: (config: FlexnodeConfig) => Record<string, string> = kubeSysctls,
): StepInstance {
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
}
