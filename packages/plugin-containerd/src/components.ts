import { resolveArtifact, type Artifact, type Arch, type ComponentSpec, type FlexnodeConfig } from '@flexnode/sdk';
import { CONTAINERD_VERSIONS, DEFAULT_CONTAINERD_VERSION, DEFAULT_RUNC_VERSION, RUNC_VERSIONS } from './versions.js';

/** containerd's release tarball, as published on GitHub. */
export const containerdSpec: ComponentSpec = {
  component: 'containerd',
  configSection: 'containerd',
  defaultVersion: DEFAULT_CONTAINERD_VERSION,
  table: CONTAINERD_VERSIONS,
  file: (v, arch) => `containerd-${v}-linux-${arch}.tar.gz`,
  url: (v, arch) => `https://github.com/containerd/containerd/releases/download/v${v}/containerd-${v}-linux-${arch}.tar.gz`,
  checksumSource: 'the .sha256sum file next to the tarball',
};

/** runc's static release binary, as published on GitHub. */
export const runcSpec: ComponentSpec = {
  component: 'runc',
  configSection: 'runc',
  defaultVersion: DEFAULT_RUNC_VERSION,
  table: RUNC_VERSIONS,
  file: (_v, arch) => `runc.${arch}`,
  url: (v, arch) => `https://github.com/opencontainers/runc/releases/download/v${v}/runc.${arch}`,
  checksumSource: 'the runc.sha256sum file of the release',
};

/** The containerd tarball for this config (`containerd.version` / `containerd.sha256` override the table). */
export function containerdArtifact(config: FlexnodeConfig, arch: Arch): Artifact {
  return resolveArtifact(containerdSpec, config.containerd, arch);
}

/** The runc binary for this config; upstream's `runc.url` replaces the release URL. */
export function runcArtifact(config: FlexnodeConfig, arch: Arch): Artifact {
  return resolveArtifact(runcSpec, config.runc, arch, config.runc?.url);
}
