import { ContainerRuntime, defineStep, missing, ok, Tokens, type CheckResult } from '@flexnode/sdk';
import { PACKAGES } from './paths.js';

/**
 * `crun.packages`: containerd and crun from the distribution. The Host journals them and every dependency apt
 * pulls in with them (runc, libyajl2), so uninstall purges exactly those.
 */
export const crunPackages = defineStep({
  id: 'crun.packages',
  title: 'containerd and crun packages',
  provides: [ContainerRuntime],
  inject: { host: Tokens.Host },
  create: ({ host }) => {
    const absent = async () => {
      const out: string[] = [];
      for (const pkg of PACKAGES) if (!(await host.apt.isInstalled(pkg))) out.push(pkg);
      return out;
    };
    return {
      check: async (): Promise<CheckResult> => {
        const wanted = await absent();
        return wanted.length ? missing(`packages not installed: ${wanted.join(', ')}`) : ok(PACKAGES.join(', '));
      },
      install: async () => {
        const wanted = await absent();
        if (wanted.length) await host.apt.install(wanted);
      },
      uninstall: () => host.changes.revert(),
    };
  },
});
