import { defineStep, drifted, missing, ok, Tokens } from '@flexnode/sdk';

/** Loaded at boot by systemd-modules-load. */
export const MODULES_FILE = '/etc/modules-load.d/flexnode-kubernetes.conf';

/** overlay for containerd's snapshotter, br_netfilter so bridged pod traffic passes iptables. */
export const KUBERNETES_MODULES = ['overlay', 'br_netfilter'] as const;

const render = () => `# Written by flexnode (plugin-kube): modules containerd and pod networking need.\n${KUBERNETES_MODULES.join('\n')}\n`;

/** Kernel modules loaded now (a built-in module counts as loaded) and at every boot. */
export const kubeKernelModules = defineStep({
  id: 'kube.kernel-modules',
  title: 'Kernel modules overlay and br_netfilter',
  after: ['kube.preflight'],
  inject: { host: Tokens.Host },
  create: ({ host }) => ({
    async check() {
      const file = await host.files.readText(MODULES_FILE);
      if (file === undefined) return missing(`${MODULES_FILE} does not exist`);
      if (file !== render()) return drifted(`${MODULES_FILE} differs from what flexnode writes`);
      for (const name of KUBERNETES_MODULES) if (!(await host.modules.isLoaded(name))) return drifted(`module ${name} is not loaded`);
      return ok();
    },
    async install() {
      await host.files.write(MODULES_FILE, render(), { mode: 0o644 });
      for (const name of KUBERNETES_MODULES) await host.modules.load(name);
    },
    async uninstall() {
      await host.changes.revert();
    },
  }),
});
