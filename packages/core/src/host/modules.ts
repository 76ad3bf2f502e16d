import { promises as fs } from 'node:fs';
import { FlexnodeError, type HostModules } from '@flexnode/sdk';
import type { StepContext } from './context.js';
import { runCommand } from './exec.js';

/**
 * Kernel modules. Loaded ⇔ `<root>/sys/module/<name>` exists, which also covers modules built into the kernel
 * (modprobe fails on kernels without loadable modules). Loading is only possible on the host root.
 */
export function createModules(ctx: StepContext): HostModules {
  const isLoaded = async (name: string) => {
    checkName(name);
    return fs.access(ctx.paths.resolve(`/sys/module/${name}`)).then(
      () => true,
      () => false,
    );
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
        throw new FlexnodeError('MODULES_UNSUPPORTED', `cannot load the kernel module ${name} under the root ${ctx.paths.root}: modules belong to the running kernel`, {
          hint: `under a sandbox root, create ${ctx.paths.root}/sys/module/${name} to mark it loaded`,
        });
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
