import { drifted, missing, ok, type Host, type StepInstance } from '@flexnode/sdk';

/** Loaded at boot by systemd-modules-load. */
export const MODULES_FILE = '/etc/modules-load.d/flexnode-kubernetes.conf';

/** overlay for containerd's snapshotter, br_netfilter so bridged pod traffic passes iptables. */
export const KUBERNETES_MODULES = ['overlay', 'br_netfilter'] as const;

const render = () => `# Written by flexnode (plugin-kube): modules containerd and pod networking need.\n${KUBERNETES_MODULES.join('\n')}\n`;

/** The operations of `kube.kernel-modules` (steps.ts): the modules loaded now and listed for every boot. */
export function kernelModulesOps({ host }: { host: Host }): StepInstance {
  return {
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
  };
}
