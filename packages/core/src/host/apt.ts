import { FlexnodeError, type Change, type HostApt } from '@flexnode/sdk';
import type { StepContext } from './context.js';
import { dpkgInstalled, dpkgInstalledNames } from './dpkg-status.js';
import { runCommand } from './exec.js';

const APT_TIMEOUT_MS = 15 * 60_000;
const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive' };

/**
 * Debian packages. Each package flexnode installs is journaled as `package` before apt-get runs, and so is, after
 * it, each dependency apt pulled in with it (crun brings libyajl2): revert removes exactly those, never a package
 * that was there before (upstream's unbootstrap removed packages it never installed), and never one that a
 * package flexnode did not install still needs. Like every command, dpkg/apt run on this host even under a sandbox
 * root; whether a package is installed is read from dpkg's database (dpkg-query when there is none).
 */
export function createApt(ctx: StepContext): HostApt {
  const isInstalled = (pkg: string) => isPackageInstalled(ctx, pkg);
  return {
    isInstalled,
    async install(packages) {
      packages.forEach(checkName);
      const wanted: string[] = [];
      for (const pkg of new Set(packages)) if (!(await isInstalled(pkg))) wanted.push(pkg);
      if (wanted.length === 0) return false;
      if (ctx.dryRun) {
        for (const pkg of wanted) ctx.planned('apt-get install', pkg);
        return true;
      }
      for (const name of wanted) await ctx.journal({ kind: 'package', name });
      const before = await dpkgInstalledNames(ctx.shared.dpkgStatusFile);
      try {
        await runCommand(ctx, 'apt-get', ['install', '-y', '--no-install-recommends', ...wanted], { env: APT_ENV, timeoutMs: APT_TIMEOUT_MS });
        // The dependencies apt installed with them are flexnode's too: unbootstrap removes them.
        const after = await dpkgInstalledNames(ctx.shared.dpkgStatusFile);
        const requested = new Set(wanted.map(packageName));
        for (const name of [...(after ?? [])].filter((n) => before && !before.has(n) && !requested.has(n)).sort()) {
          await ctx.journal({ kind: 'package', name });
        }
      } catch (error) {
        // Keep journaled only what apt really installed before failing.
        const missing = new Set<string>();
        for (const name of wanted) if (!(await isInstalled(name))) missing.add(name);
        await ctx.shared.journal?.removeChanges(ctx.step, (c) => c.kind === 'package' && missing.has(c.name));
        throw error;
      }
      return true;
    },
  };
}

/**
 * Undo a package install: `apt-get purge` if it is still installed (it was not there before: its conffiles and
 * the unit links its scripts made go too), unless that would also remove a package this step did not install
 * (something installed since needs it): then it is kept, and the log says what needs it.
 */
export async function revertPackage(ctx: StepContext, change: Extract<Change, { kind: 'package' }>): Promise<void> {
  if (!(await isPackageInstalled(ctx, change.name))) return;
  const name = packageName(change.name);
  const simulated = await runCommand(ctx, 'apt-get', ['-s', 'purge', name], { env: APT_ENV, allowFailure: true });
  const removed = [...simulated.stdout.matchAll(/^(?:Remv|Purg) (\S+)/gm)].map((m) => m[1]!.split(':')[0]!);
  const ours = new Set(ctx.changes().flatMap((c) => (c.kind === 'package' ? [packageName(c.name).split(':')[0]!] : [])));
  const others = removed.filter((p) => !ours.has(p));
  if (others.length > 0) {
    ctx.log.warn(`package ${name} is kept: removing it would also remove ${others.join(', ')}, which flexnode did not install`);
    return;
  }
  await runCommand(ctx, 'apt-get', ['purge', '-y', name], { env: APT_ENV, timeoutMs: APT_TIMEOUT_MS });
}

async function isPackageInstalled(ctx: StepContext, pkg: string): Promise<boolean> {
  checkName(pkg);
  const known = await dpkgInstalled(pkg.split('=')[0]!, ctx.shared.dpkgStatusFile);
  if (known !== undefined) return known;
  const result = await runCommand(ctx, 'dpkg-query', ['-W', '-f=${Status}', packageName(pkg)], { allowFailure: true });
  return result.exitCode === 0 && /\binstall ok installed\b/.test(result.stdout);
}

/** Debian package names (with an optional :arch or =version); anything else could be read as an option. */
function checkName(pkg: string): void {
  if (!/^[a-z0-9][a-z0-9+.-]*(:[a-z0-9]+)?(=[A-Za-z0-9.+~:-]+)?$/.test(pkg)) {
    throw new FlexnodeError('PACKAGE_INVALID', `invalid package name ${JSON.stringify(pkg)}`);
  }
}

/** `containerd=1.6.20~ds1-1` → `containerd`: dpkg-query and apt-get purge take the bare name. */
const packageName = (pkg: string) => pkg.split('=')[0]!;
