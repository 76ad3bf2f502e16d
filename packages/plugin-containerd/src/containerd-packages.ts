import { missing, ok, type CheckResult, type Host, type StepInstance } from '@flexnode/sdk';

/** The distribution packages installed when `containerd.source` is `apt` (Debian and Ubuntu names). */
export const APT_PACKAGES = ['containerd', 'runc'] as const;

/** The operations of `containerd.packages` (steps.ts). */
export function containerdPackagesOps({ host }: { host: Host }): StepInstance {
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
}
