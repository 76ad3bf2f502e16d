import { resolveArtifact, type Arch, type Artifact, type ComponentSpec, type FlexnodeConfig } from '@flexnode/sdk';
import { CNI_PLUGINS_VERSIONS, DEFAULT_CNI_PLUGINS_VERSION } from './versions.js';

/** The upstream release URL of the CNI plugins tarball. */
export function cniPluginsUrl(version: string, arch: Arch): string {
  return `https://github.com/containernetworking/plugins/releases/download/v${version}/cni-plugins-linux-${arch}-v${version}.tgz`;
}

/** The CNI plugins release tarball, as published on GitHub; pinned by the config's `cni` section. */
export const cniPluginsSpec: ComponentSpec = {
  component: 'cni-plugins',
  configSection: 'cni',
  defaultVersion: DEFAULT_CNI_PLUGINS_VERSION,
  table: CNI_PLUGINS_VERSIONS,
  file: (v, arch) => `cni-plugins-linux-${arch}-v${v}.tgz`,
  url: cniPluginsUrl,
  checksumSource: 'the .tgz.sha256 file next to the tarball',
};

/**
 * The CNI plugins tarball for this config and architecture. `cni.version` and `cni.sha256` override the pinned
 * table; a version the table does not know needs `cni.sha256` (ConfigError, exit code 2, otherwise).
 */
export function cniPluginsArtifact(config: FlexnodeConfig, arch: Arch): Artifact {
  return resolveArtifact(cniPluginsSpec, config.cni, arch);
}
