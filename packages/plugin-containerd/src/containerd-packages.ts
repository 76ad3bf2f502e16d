import { ContainerRuntime, defineStep, missing, ok, Tokens, type CheckResult } from '@flexnode/sdk';
import { whenApt } from './source.js';

/** The distribution packages installed when `containerd.source` is `apt` (Debian and Ubuntu names). */
export const APT_PACKAGES = ['containerd', 'runc'] as const;

/**
 * `containerd.packages`: containerd and runc from the distribution (`containerd.source: "apt"`), instead of
 * the release artifacts. The packages put containerd at /usr/bin/containerd, where containerd.service expects
 * it; the config and unit steps apply unchanged. Uninstall removes only the packages flexnode installed.
 */
export const containerdPackages = defineStep({
  id: 'containerd.packages',
  title: 'containerd and runc from the distribution packages',
  provides: [ContainerRuntime],
  when: whenApt,
  inject: { host: Tokens.Host },
  create: ({ host }) => {
    const absent = async () => {
      const out: string[] = [];
      for (const pkg of APT_PACKAGES) if (!(await host.apt.isInstalled(pkg))) out.push(pkg);
      return out;
    };
    const check = async (): Promise<CheckResult> => {
      const wanted = await absent();
      return wanted.length ? missing(`packages not installed: ${wanted.join(', ')}`) : ok(APT_PACKAGES.join(', '));
    };
    return {
      check,
      install: async () => {
        const wanted = await absent();
        if (wanted.length) await host.apt.install(wanted);
      },
      uninstall: () => host.changes.revert(),
    };
  },
});
