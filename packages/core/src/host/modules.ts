import { existsSync } from 'node:fs';
import { FlexnodeError, type HostModules } from '@flexnode/sdk';
import type { StepContext } from './context.js';
import { runCommand } from './exec.js';
import { readTextNow } from './read-now.js';

/**
 * Kernel modules. Loaded ⇔ `<root>/sys/module/<name>` exists, /proc/modules lists it, or (built in without
 * parameters, or inside a container) the kernel shows the module's feature. modprobe fails on kernels without
 * loadable modules, so a module that is there is never loaded again. Loading is only possible on the host root.
 */
export function createModules(ctx: StepContext): HostModules {
  const exists = async (path: string) => existsSync(ctx.paths.resolve(path));
  const read = async (path: string) => readTextNow(ctx.paths.resolve(path)) ?? '';
  /**
   * sysfs lists a built-in module only when it has parameters, and a container may have no /sys/module or
   * /proc/modules at all: then the kernel's features tell (overlay in /proc/filesystems, the bridge sysctls).
   */
  const FEATURES: Record<string, () => Promise<boolean>> = {
    overlay: async () => /^nodev\s+overlay$/m.test(await read('/proc/filesystems')),
    br_netfilter: () => exists('/proc/sys/net/bridge/bridge-nf-call-iptables'),
  };
  const isLoaded = async (name: string) => {
    checkName(name);
    if (await exists(`/sys/module/${name}`)) return true;
    if (new RegExp(`^${name} `, 'm').test(await read('/proc/modules'))) return true;
    return (await FEATURES[name]?.()) ?? false;
  };
  return {
    isLoaded,
    async load(name) {
      if (await isLoaded(name)) return false;
      if (ctx.dryRun) {
        ctx.planned('modprobe', name);
        return true;
      }
      if (!ctx.paths.isHostRoot) {
        throw new FlexnodeError(
          'MODULES_UNSUPPORTED',
          `cannot load the kernel module ${name} under the root ${ctx.paths.root}: modules belong to the running kernel`,
          {
            hint: `under a sandbox root, create ${ctx.paths.root}/sys/module/${name} to mark it loaded`,
          },
        );
      }
      await ctx.journal({ kind: 'module', name });
      await runCommand(ctx, 'modprobe', [name]);
      return true;
    },
  };
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new FlexnodeError('MODULE_INVALID', `invalid kernel module name ${JSON.stringify(name)}`);
}
