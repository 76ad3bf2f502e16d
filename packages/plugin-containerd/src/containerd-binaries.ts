import { ContainerRuntime, defineStep, releaseFiles, Tokens } from '@flexnode/sdk';
import { containerdArtifact } from './components.js';
import { Paths } from './paths.js';
import { whenRelease } from './source.js';

/** Custom journal record type holding the hashes of the binaries copied from the verified tarball. */
export const CONTAINERD_BINARIES_RECORD = 'containerd-binaries';

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
  artifacts: (config, arch) => [containerdArtifact(config, arch)],
  inject: { host: Tokens.Host, config: Tokens.Config },
  create: ({ host, config }) => {
    const files = releaseFiles(host, {
      record: CONTAINERD_BINARIES_RECORD,
      from: 'bin',
      to: Paths.binDir,
      required: ['containerd'],
      layoutHint: 'the mirror must serve the upstream tarball layout (bin/containerd, bin/ctr, ...)',
    });
    return {
      check: () => files.check(containerdArtifact(config, host.arch)),
      install: () => files.install(containerdArtifact(config, host.arch)),
      uninstall: () => files.uninstall(),
    };
  },
});
