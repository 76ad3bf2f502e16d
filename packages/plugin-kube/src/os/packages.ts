import { FlexnodeError, isFlexnodeError, missing, ok, type CheckResult, type Host, type StepInstance } from '@flexnode/sdk';

/** Tools the kubelet and kube-proxy call, and the Debian/Ubuntu package that ships each. */
export const REQUIRED_TOOLS: readonly { command: string; package: string; why: string }[] = [
  { command: 'conntrack', package: 'conntrack', why: 'kube-proxy flushes stale conntrack entries' },
  { command: 'iptables', package: 'iptables', why: 'kube-proxy and the kubelet program iptables' },
  { command: 'socat', package: 'socat', why: '`kubectl port-forward` runs through the node' },
  { command: 'ebtables', package: 'ebtables', why: 'bridge filtering used by some CNI plugins' },
];

const SBIN_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/local/bin'];

/** Whether a tool is there: on PATH, in a usual bin directory, or its package installed (an equivalent counts). */
async function present(host: Host, tool: { command: string; package: string }): Promise<boolean> {
  if (await host.exec.which(tool.command)) return true;
  for (const dir of SBIN_DIRS) if ((await host.files.stat(`${dir}/${tool.command}`))?.type === 'file') return true;
  return host.apt.isInstalled(tool.package);
}

/** The operations of `kube.packages` (steps.ts): the missing tools installed with apt, each package journaled. */
export function packagesOps({ host }: { host: Host }): StepInstance {
  // Tools are looked up side by side: each may cost a dpkg-query process.
  const absent = async () => {
    const found = await Promise.all(REQUIRED_TOOLS.map((tool) => present(host, tool)));
    return REQUIRED_TOOLS.filter((_, i) => !found[i]);
  };
  const check = async (): Promise<CheckResult> => {
    const lacking = await absent();
    if (lacking.length > 0) return missing(`absent: ${lacking.map((t) => `${t.command} (package ${t.package})`).join(', ')}`);
    return ok(REQUIRED_TOOLS.map((t) => t.command).join(', '));
  };
  return {
    check,
    async install() {
      const lacking = await absent();
      if (lacking.length === 0) return;
      const names = lacking.map((t) => t.package);
      if (!(await host.exec.which('apt-get'))) {
        throw new FlexnodeError('PACKAGES_MISSING', `required tools are absent and this machine has no apt-get: ${names.join(', ')}`, {
          hint: `install ${names.join(', ')} (or their equivalents) with the distribution's package manager, then run bootstrap again`,
        });
      }
      try {
        await host.apt.install(names);
      } catch (error) {
        // A fresh machine may have empty package lists: refresh them once and retry.
        if (!isFlexnodeError(error) || !/Unable to locate package|has no installation candidate/i.test(error.message)) throw error;
        host.log.info('apt could not find a package: refreshing the package lists (apt-get update) and retrying');
        await host.exec.run('apt-get', ['update'], { describe: 'refresh apt package lists', timeoutMs: 10 * 60_000 });
        await host.apt.install(names);
      }
    },
    uninstall: () => host.changes.revert(),
  };
}
