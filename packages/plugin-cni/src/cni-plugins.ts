import { releaseFiles, type FlexnodeConfig, type Host, type StepInstance } from '@flexnode/sdk';
import { cniPluginsArtifact } from './artifact.js';
import { cniPaths } from './paths.js';

/** Custom journal record type holding the hashes of the plugins copied from the verified tarball. */
export const CNI_PLUGINS_RECORD = 'cni-plugins';

/**
 * Plugins the runtime and the default network need. containerd's CRI plugin sets up each pod's `lo` itself by
 * running `loopback` from its bin_dir (it is not part of any conflist), and the default network chains
 * `bridge`, `host-local` and `portmap`.
 */
export const REQUIRED_PLUGINS = ['loopback', 'bridge', 'host-local', 'portmap'] as const;

// Plugin executables have plain lowercase names; this leaves out the tarball's LICENSE and README.md.
const PLUGIN_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** The operations of `cni.plugins` (steps.ts): the release's plugins, each file journaled and checked by hash. */
export function cniPluginsOps({ host, config }: { host: Host; config: FlexnodeConfig }): StepInstance {
  const files = releaseFiles(host, {
    record: CNI_PLUGINS_RECORD,
    to: cniPaths(config).binDir,
    include: (name) => PLUGIN_NAME.test(name),
    required: REQUIRED_PLUGINS,
    layoutHint: 'the mirror must serve the upstream tarball, with the plugins at its top level',
  });
  return {
    check: () => files.check(cniPluginsArtifact(config, host.arch)),
    install: () => files.install(cniPluginsArtifact(config, host.arch)),
    uninstall: () => files.uninstall(),
  };
}
