import { ConfigError, type Arch, type Artifact, type FlexnodeConfig } from '@flexnode/sdk';
import { CNI_PLUGINS_VERSIONS, DEFAULT_CNI_PLUGINS_VERSION } from './versions.js';

const SHA256 = /^[0-9a-f]{64}$/;

/** The upstream release URL of the CNI plugins tarball. */
export function cniPluginsUrl(version: string, arch: Arch): string {
  return `https://github.com/containernetworking/plugins/releases/download/v${version}/cni-plugins-linux-${arch}-v${version}.tgz`;
}

/**
 * The CNI plugins tarball for this config and architecture. `cni.version` and `cni.sha256` override the pinned
 * table; a version the table does not know needs `cni.sha256`, since nothing unverified is installed. Throws
 * {@link ConfigError} (exit code 2) naming the field otherwise.
 */
export function cniPluginsArtifact(config: FlexnodeConfig, arch: Arch): Artifact {
  const version = (config.cni?.version ?? DEFAULT_CNI_PLUGINS_VERSION).trim().replace(/^v/, '');
  const pinned = config.cni?.sha256;
  const configured = typeof pinned === 'string' ? pinned : pinned?.[arch];
  const sha256 = (configured ?? CNI_PLUGINS_VERSIONS[version]?.[arch])?.toLowerCase();
  if (sha256 === undefined) {
    throw new ConfigError(
      `cni-plugins ${version} (${arch}) has no pinned sha256: set cni.sha256 in the config`,
      [{ path: 'cni.sha256', message: `required for cni.version ${version}, which flexnode does not pin` }],
      `pin the checksum published with the release (the .tgz.sha256 file), or use a pinned version: ${Object.keys(CNI_PLUGINS_VERSIONS).join(', ')}`,
    );
  }
  if (!SHA256.test(sha256)) {
    throw new ConfigError(`cni.sha256 is not a sha256: "${sha256}"`, [
      { path: 'cni.sha256', message: 'expected 64 hexadecimal characters' },
    ]);
  }
  const file = `cni-plugins-linux-${arch}-v${version}.tgz`;
  return {
    name: `cni-plugins ${version} (${arch})`,
    url: cniPluginsUrl(version, arch),
    mirrorPath: `cni-plugins/v${version}/${file}`,
    sha256,
  };
}
