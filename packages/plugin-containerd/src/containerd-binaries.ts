import { releaseFiles, type Host, type FlexnodeConfig, type StepInstance } from '@flexnode/sdk';
import { containerdArtifact } from './components.js';
import { Paths } from './paths.js';

/** Custom journal record type holding the hashes of the binaries copied from the verified tarball. */
export const CONTAINERD_BINARIES_RECORD = 'containerd-binaries';

/** The operations of `containerd.binaries` (steps.ts). */
export function containerdBinariesOps({ host, config }: { host: Host; config: FlexnodeConfig }): StepInstance {
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
}
