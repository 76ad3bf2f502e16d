import { ConfigError, type Arch, type Artifact, type ComponentConfig } from '@flexnode/sdk';
import type { VersionTable } from './versions.js';

/** How to name, locate and pin one component's release artifact. */
export interface ComponentSpec {
  /** Mirror directory and config section, e.g. `containerd` (mirror) for config section `containerd`. */
  readonly component: string;
  /** The config section that pins it (`runc`, `containerd`), for error paths. */
  readonly configSection: string;
  readonly defaultVersion: string;
  readonly table: VersionTable;
  /** File name of the artifact for a version and architecture. */
  readonly file: (version: string, arch: Arch) => string;
  /** Upstream URL of the artifact. */
  readonly url: (version: string, arch: Arch) => string;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** A config version may be written `v1.7.22` or `1.7.22`; the table and the URLs use the bare form. */
export function normalizeVersion(version: string): string {
  return version.trim().replace(/^v/, '');
}

/**
 * The artifact to install for this config and architecture. The config's `version` and `sha256` override the
 * pinned table; a version the table does not know needs a sha256 in the config, since flexnode never installs
 * an unverified download. Throws {@link ConfigError} (exit code 2) naming the field otherwise.
 */
export function resolveArtifact(
  spec: ComponentSpec,
  pin: ComponentConfig | undefined,
  arch: Arch,
  urlOverride?: string,
): Artifact {
  const version = normalizeVersion(pin?.version ?? spec.defaultVersion);
  const section = spec.configSection;
  const configured = typeof pin?.sha256 === 'string' ? pin.sha256 : pin?.sha256?.[arch];
  const sha256 = (configured ?? spec.table[version]?.[arch])?.toLowerCase();
  if (sha256 === undefined) {
    const known = Object.keys(spec.table).join(', ');
    throw new ConfigError(
      `${section} ${version} (${arch}) has no pinned sha256: set ${section}.sha256 in the config`,
      [{ path: `${section}.sha256`, message: `required for ${section}.version ${version}, which flexnode does not pin` }],
      `pin the checksum published with the release, e.g. "${section}": {"version": "${version}", "sha256": {"${arch}": "<sha256>"}}, or use a pinned version: ${known}`,
    );
  }
  if (!SHA256.test(sha256)) {
    throw new ConfigError(`${section}.sha256 is not a sha256: "${sha256}"`, [
      { path: `${section}.sha256`, message: 'expected 64 hexadecimal characters' },
    ]);
  }
  const file = spec.file(version, arch);
  return {
    name: `${spec.component} ${version} (${arch})`,
    url: urlOverride ?? spec.url(version, arch),
    mirrorPath: `${spec.component}/v${version}/${file}`,
    sha256,
  };
}
