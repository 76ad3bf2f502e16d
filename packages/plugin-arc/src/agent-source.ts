import { ConfigError, type Arch, type Artifact, type FlexnodeConfig } from '@flexnode/sdk';
import type { OsRelease } from './os-release.js';
import { arcPluginConfig, PLUGIN_NAME, type ArcPluginConfig } from './plugin-config.js';

/**
 * Where the Azure Connected Machine agent comes from: a pure function of the config and the machine's release,
 * so that `flexnode plan` and other commands (a mirror sync) resolve exactly what `arc.agent` installs.
 */

/**
 * Microsoft's repository signing keys (MicrosoftDocs/linux `docs/packages.md`, "How to use the GPG Repository
 * Signing Key"; learn.microsoft.com/linux/packages). Repositories of newer releases are signed with the 2025 key
 * (SHA-1 deprecation): Debian 13, Ubuntu 25.10 and later.
 */
export const MICROSOFT_KEYS = {
  'microsoft.asc': { url: 'https://packages.microsoft.com/keys/microsoft.asc', fingerprint: 'BC528686B50D79E339D3721CEB3E94ADBE1229CF' },
  'microsoft-2025.asc': { url: 'https://packages.microsoft.com/keys/microsoft-2025.asc', fingerprint: 'AA86F75E427A19DD33346403EE4D7792F748182B' },
} as const;

/** A release Microsoft publishes the agent for, and its repository at packages.microsoft.com. */
export interface ArcRelease {
  id: 'ubuntu' | 'debian';
  versionId: string;
  /** The suite of `https://packages.microsoft.com/<id>/<versionId>/prod`. */
  codename: string;
  key: keyof typeof MICROSOFT_KEYS;
  arches: readonly Arch[];
}

/**
 * The Debian-family releases Microsoft's own installer (https://aka.ms/azcmagent, install_linux_azcmagent.sh)
 * configures packages.microsoft.com for, with its architecture limits (it refuses arm64 on Debian 11). Others
 * (Ubuntu 26.04, derivatives) work with an explicit `agent.repository`.
 */
export const ARC_RELEASES: readonly ArcRelease[] = [
  { id: 'ubuntu', versionId: '20.04', codename: 'focal', key: 'microsoft.asc', arches: ['amd64', 'arm64'] },
  { id: 'ubuntu', versionId: '22.04', codename: 'jammy', key: 'microsoft.asc', arches: ['amd64', 'arm64'] },
  { id: 'ubuntu', versionId: '24.04', codename: 'noble', key: 'microsoft.asc', arches: ['amd64', 'arm64'] },
  { id: 'debian', versionId: '11', codename: 'bullseye', key: 'microsoft.asc', arches: ['amd64'] },
  { id: 'debian', versionId: '12', codename: 'bookworm', key: 'microsoft.asc', arches: ['amd64', 'arm64'] },
  { id: 'debian', versionId: '13', codename: 'trixie', key: 'microsoft-2025.asc', arches: ['amd64', 'arm64'] },
];

export const DEFAULT_REPOSITORY_BASE = 'https://packages.microsoft.com';
export const AGENT_PACKAGE = 'azcmagent';

/** Microsoft's Debian repository for the agent, as flexnode configures it (one `signed-by` list entry). */
export interface AgentRepository {
  /** The apt URI, e.g. `https://packages.microsoft.com/ubuntu/22.04/prod` (no trailing slash). */
  url: string;
  suite: string;
  component: string;
  /** Where the signing key is fetched from. */
  keyUrl: string;
  /** The key's fingerprint, upper-case hex without spaces: checked before the key is trusted. */
  fingerprint: string;
  /** Only this architecture is asked of the repository. */
  arch: Arch;
}

/** What `arc.agent` installs when azcmagent is missing. */
export type AgentPackageSource =
  | { kind: 'apt'; repository: AgentRepository; /** `azcmagent` or `azcmagent=<version>` */ package: string }
  | { kind: 'deb' | 'binary'; artifact: Artifact }
  | { kind: 'none' };

const field = (f: string) => `pluginConfig["${PLUGIN_NAME}"].agent.${f}`;
const SHA256 = /^[0-9a-f]{64}$/;

/** The upper-case hex form of a fingerprint as people write it (`BC52 8686 ...`). */
export function normalizeFingerprint(text: string): string {
  return text.replace(/\s+/g, '').toUpperCase();
}

/** The release of the table that `os` is, if any. */
export function arcRelease(os: OsRelease | undefined): ArcRelease | undefined {
  return os ? ARC_RELEASES.find((r) => r.id === os.id && r.versionId === os.versionId) : undefined;
}

function supportedList(): string {
  return ARC_RELEASES.map((r) => `${r.id === 'ubuntu' ? 'Ubuntu' : 'Debian'} ${r.versionId}`).join(', ');
}

/**
 * Microsoft's repository for this release, with `agent.repository` overrides (mirrors, air-gapped sites). A release
 * Microsoft does not publish the agent for needs the whole repository configured; it is refused, naming the fields.
 */
export function agentRepository(config: FlexnodeConfig, os: OsRelease | undefined, arch: Arch): AgentRepository {
  const over = arcPluginConfig(config).agent?.repository ?? {};
  const release = arcRelease(os);
  const what = os ? `${os.prettyName} (${os.id} ${os.versionId})` : 'this machine (no /etc/os-release)';
  if (!release || !release.arches.includes(arch)) {
    const needed = (['url', 'suite', 'key', 'fingerprint'] as const).filter((k) => !over[k]);
    if (needed.length > 0) {
      const reason = release ? `Microsoft publishes no ${arch} agent for ${what}` : `Microsoft publishes the Arc agent for ${supportedList()}, not for ${what}`;
      throw new ConfigError(
        `${reason}: the agent's package repository cannot be chosen`,
        needed.map((k) => ({ path: field(`repository.${k}`), message: 'required on this release: the repository that serves azcmagent for it' })),
        `set ${field('repository')} {url, suite, key, fingerprint} to a repository that has the agent for this release, or ${field('source')} "deb" / "binary" / "none"`,
      );
    }
  }
  const key = release ? MICROSOFT_KEYS[release.key] : undefined;
  return {
    url: (over.url ?? `${DEFAULT_REPOSITORY_BASE}/${release!.id}/${release!.versionId}/prod`).replace(/\/+$/, ''),
    suite: over.suite ?? release!.codename,
    component: over.component ?? 'main',
    keyUrl: over.key ?? key!.url,
    fingerprint: normalizeFingerprint(over.fingerprint ?? key!.fingerprint),
    arch,
  };
}

/** The pinned `.deb` or single binary of the `deb` and `binary` sources. */
export function agentArtifact(config: FlexnodeConfig, arch: Arch, os?: OsRelease): Artifact {
  const agent = arcPluginConfig(config).agent ?? {};
  const source = agent.source ?? 'apt';
  const version = agent.version?.replace(/^v/, '');
  const sha = (typeof agent.sha256 === 'string' ? agent.sha256 : agent.sha256?.[arch])?.toLowerCase();
  if (!version || !sha || !SHA256.test(sha)) {
    throw new ConfigError(`the "${source}" source of azcmagent needs ${field('version')} and a pinned ${field('sha256')} (64 hex digits) for ${arch}`, [
      { path: !version ? field('version') : field('sha256'), message: 'required: flexnode never installs an unverified download' },
    ]);
  }
  const file = source === 'deb' ? `azcmagent_${version}_${arch}.deb` : `azcmagent-linux-${arch}`;
  const mirrorPath = `azcmagent/v${version}/${file}`;
  return {
    name: `azcmagent ${version} (${arch}, ${source})`,
    url: agent.url ?? defaultArtifactUrl(config, source, file, mirrorPath, arch, os),
    mirrorPath,
    sha256: sha,
  };
}

/**
 * What `flexnode mirror sync` copies for arc.agent: the pinned file of the `deb` and `binary` sources; `apt` installs
 * from the package repository and `none` installs nothing, so neither has an artifact to mirror.
 */
export function mirroredAgentArtifacts(config: FlexnodeConfig, arch: Arch): Artifact[] {
  const agent = arcPluginConfig(config).agent ?? {};
  const source = agent.source ?? 'apt';
  if (source !== 'deb' && source !== 'binary') return [];
  // A node picks the .deb of its own release's repository; a mirror serves every node the one file it holds, so
  // it must be told which (the mirror path does not depend on the release).
  if (source === 'deb' && !agent.url && !agent.repository?.url) {
    throw new ConfigError('a mirror of the "deb" source of azcmagent needs the package\'s URL: the nodes\' release is not known where the mirror is made', [
      { path: 'pluginConfig["@flexnode/plugin-arc"].agent.url', message: 'required for flexnode mirror sync (or agent.repository.url)' },
    ]);
  }
  return [agentArtifact(config, arch)];
}

/** A `.deb` lies in the pool of this release's repository; a single binary has no public URL (a mirror serves it). */
function defaultArtifactUrl(config: FlexnodeConfig, source: string, file: string, mirrorPath: string, arch: Arch, os: OsRelease | undefined): string {
  if (source === 'deb') return `${agentRepository(config, os, arch).url}/pool/main/a/${AGENT_PACKAGE}/${file}`;
  // No public URL: the mirror is where it comes from (and where `flexnode mirror sync` copies it from).
  if (config.artifacts?.mirror) return `${config.artifacts.mirror.replace(/\/+$/, '')}/${mirrorPath}`;
  throw new ConfigError(`the "binary" source of azcmagent needs artifacts.mirror or ${field('url')}: Microsoft publishes no single binary`, [
    { path: field('url'), message: 'required without artifacts.mirror' },
  ]);
}

/** The configured source, resolved for this machine: what to install and from where. */
export function agentPackageSource(config: FlexnodeConfig, os: OsRelease | undefined, arch: Arch): AgentPackageSource {
  const agent: NonNullable<ArcPluginConfig['agent']> = arcPluginConfig(config).agent ?? {};
  switch (agent.source ?? 'apt') {
    case 'none':
      return { kind: 'none' };
    case 'apt':
      return {
        kind: 'apt',
        repository: agentRepository(config, os, arch),
        package: agent.version ? `${AGENT_PACKAGE}=${agent.version.replace(/^v/, '')}` : AGENT_PACKAGE,
      };
    case 'deb':
      return { kind: 'deb', artifact: agentArtifact(config, arch, os) };
    case 'binary':
      return { kind: 'binary', artifact: agentArtifact(config, arch, os) };
  }
}
