import type { Arch, ComponentConfig } from './config.js';
import { ConfigError } from './errors.js';
import type { Artifact } from './host.js';

/** sha256 (lowercase hex) of one release artifact per architecture. */
export type ArchChecksums = Readonly<Record<Arch, string>>;

/** Pinned releases of a component: version (no leading `v`) → checksums of its artifacts. */
export type VersionTable = Readonly<Record<string, ArchChecksums>>;

/** How to name, locate and pin one component's release artifact. */
export interface ComponentSpec {
  /** The component's name in messages and its directory on a mirror (`<component>/v<version>/<file>`). */
  readonly component: string;
  /** The config section that pins it (`containerd`, `cni`): `<section>.version` and `<section>.sha256`. */
  readonly configSection: string;
  readonly defaultVersion: string;
  readonly table: VersionTable;
  /** File name of the artifact for a version and architecture (the last part of its mirror path). */
  readonly file: (version: string, arch: Arch) => string;
  /** Upstream URL of the artifact. */
  readonly url: (version: string, arch: Arch) => string;
  /** Where the release publishes its checksums, for the hint when one is missing (e.g. "the .sha256sum file"). */
  readonly checksumSource?: string;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** A config version may be written `v1.7.22` or `1.7.22`; tables and URLs use the bare form. */
export function normalizeVersion(version: string): string {
  return version.trim().replace(/^v/, '');
}

/**
 * The artifact to install for a component's config section and the machine's architecture. The config's `version`
 * and `sha256` (a string, or `{amd64, arm64}`) override the pinned table; a version the table does not know needs
 * a sha256 in the config, since nothing unverified is ever installed. The mirror path is
 * `<component>/v<version>/<file>`; `urlOverride` replaces the upstream URL only (upstream's `runc.url`).
 * Throws {@link ConfigError} (exit code 2) naming the field otherwise.
 */
export function resolveArtifact(spec: ComponentSpec, pin: ComponentConfig | undefined, arch: Arch, urlOverride?: string): Artifact {
  const version = normalizeVersion(pin?.version ?? spec.defaultVersion);
  const section = spec.configSection;
  const configured = typeof pin?.sha256 === 'string' ? pin.sha256 : pin?.sha256?.[arch];
  const sha256 = (configured ?? spec.table[version]?.[arch])?.toLowerCase();
  const name = `${spec.component} ${version} (${arch})`;
  if (sha256 === undefined) {
    const known = Object.keys(spec.table).join(', ');
    throw new ConfigError(
      `${name} has no pinned sha256: set ${section}.sha256 in the config`,
      [{ path: `${section}.sha256`, message: `required for ${section}.version ${version}, which flexnode does not pin` }],
      `pin the checksum published with the release${spec.checksumSource ? ` (${spec.checksumSource})` : ''}, e.g. "${section}": {"version": "${version}", "sha256": {"${arch}": "<sha256>"}}, or use a pinned version: ${known}`,
    );
  }
  if (!SHA256.test(sha256)) {
    throw new ConfigError(`${section}.sha256 is not a sha256: "${sha256}"`, [{ path: `${section}.sha256`, message: 'expected 64 hexadecimal characters' }]);
  }
  return { name, url: urlOverride ?? spec.url(version, arch), mirrorPath: `${spec.component}/v${version}/${spec.file(version, arch)}`, sha256 };
}
