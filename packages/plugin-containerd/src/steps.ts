import { Cni, ContainerRuntime, deferredStep, defineStep, Tokens } from '@flexnode/sdk';
import { whenApt, whenRelease } from './source.js';

// Every command that reads steps imports this module (the plugin's entry): it holds the definitions only. What
// the steps do is in impl.ts, imported the first time a step runs (the SDK's deferredStep), so `flexnode steps`
// never parses it.
const impl = () => import('./impl.js');

/**
 * `runc.binary`: runc's static release binary at /usr/bin/runc (0755). The check hashes the installed file
 * and compares it with the pinned sha256 of the artifact, so a replaced or tampered binary shows as drift.
 */
export const runcBinary = defineStep({
  id: 'runc.binary',
  title: 'runc binary (/usr/bin/runc)',
  provides: [ContainerRuntime],
  when: whenRelease,
  artifacts: async (config, arch) => [(await impl()).runcArtifact(config, arch)],
  inject: { host: Tokens.Host, config: Tokens.Config },
  create: (deps) => deferredStep(async () => (await impl()).runcBinaryOps(deps)),
});

/**
 * `containerd.binaries`: the `bin/*` of containerd's release tarball (containerd, the runc v2 shim, ctr, ...)
 * copied to /usr/bin, each file journaled.
 *
 * Check: the tarball was verified against its pinned sha256 at install time and the sha256 of every file
 * copied out of it was journaled (a custom record). The check re-hashes the installed files and compares them
 * with that record, and the record's artifact checksum with the one the config asks for now. That is cheap (a
 * few local hashes, no download, no exec), exact (it also covers the shims and ctr, which `containerd --version`
 * would not, and notices a binary replaced by a package manager), and it notices a version change in the config.
 */
export const containerdBinaries = defineStep({
  id: 'containerd.binaries',
  title: 'containerd binaries (/usr/bin/containerd, shims, ctr)',
  provides: [ContainerRuntime],
  when: whenRelease,
  artifacts: async (config, arch) => [(await impl()).containerdArtifact(config, arch)],
  inject: { host: Tokens.Host, config: Tokens.Config },
  create: (deps) => deferredStep(async () => (await impl()).containerdBinariesOps(deps)),
});

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
  create: (deps) => deferredStep(async () => (await impl()).containerdPackagesOps(deps)),
});

/**
 * `containerd.config`: /etc/containerd/config.toml. The check parses the file and compares its semantic
 * content with the expected document, so formatting does not matter but any changed value does.
 */
export const containerdConfig = defineStep({
  id: 'containerd.config',
  title: 'containerd config (/etc/containerd/config.toml)',
  // After the binaries (or the apt packages, whose postinst may ship a default config.toml).
  provides: [ContainerRuntime],
  after: ['containerd.binaries', 'containerd.packages'],
  inject: { host: Tokens.Host, config: Tokens.Config, cni: Cni },
  create: (deps) => deferredStep(async () => (await impl()).containerdConfigOps(deps)),
});

/**
 * `containerd.service` (provides `container-runtime`): writes containerd.service, daemon-reload, enable, start.
 *
 * Check: unit file as expected, enabled, and, where a service manager runs, active, started with the current
 * unit/config/binary, and answering on its socket (`ctr version`, run read-only). Without a service manager
 * (sandbox roots, image builds) the check stops after "enabled" and says so in its detail.
 */
export const containerdService = defineStep({
  id: 'containerd.service',
  title: 'containerd systemd service',
  provides: [ContainerRuntime],
  after: ['runc.binary', 'containerd.binaries', 'containerd.packages', 'containerd.config'],
  inject: { host: Tokens.Host, config: Tokens.Config },
  create: (deps) => deferredStep(async () => (await impl()).containerdServiceOps(deps)),
});
