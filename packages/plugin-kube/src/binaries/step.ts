import {
  ConfigError,
  drifted,
  findRecord,
  FlexnodeError,
  installFiles,
  missing,
  ok,
  replaceRecord,
  stagedPath,
  type Arch,
  type Artifact,
  type AzureContext,
  type CheckResult,
  type FlexnodeConfig,
  type Host,
  type StepInstance,
} from '@flexnode/sdk';
import { defaultClusterReader, type ClusterReader } from '../cluster/cluster.js';
import { clusterFacts } from '../cluster/recorded.js';
import { kubePaths } from '../paths.js';
import { configuredVersion, parseKubeVersion } from '../version.js';
import { kubeArtifacts, kubeRelease, TARBALL_BIN_DIR, type KubeArtifact, type KubeRelease } from './artifacts.js';
import { KUBE_BINARIES, type ReleaseBinary } from './versions.js';

/** Custom record: the version installed, each file's URL and the sha256 it was verified against, the installed files' hashes. */
export const BINARIES_RECORD = 'kube-binaries';

export interface BinariesRecord {
  version: string;
  /** Each downloaded file and the sha256 it was verified against (pinned, or published beside it). */
  artifacts: { name: string; url: string; sha256: string }[];
  /** Installed path → sha256. */
  files: Record<string, string>;
}

/**
 * The Kubernetes version of this node: `kubernetes.version`, else the one installed (recorded), else the version
 * the cluster's control plane runs (read once with the operator's credential, see {@link clusterFacts}).
 */
export async function kubernetesVersion(
  host: Host,
  config: FlexnodeConfig,
  azure: AzureContext | undefined,
  readCluster: ClusterReader,
  who: string,
  installed?: string,
): Promise<string> {
  const configured = configuredVersion(config);
  if (configured) return configured;
  if (installed) return installed;
  const facts = await clusterFacts(host, config, azure, readCluster, who);
  const v = facts.kubernetesVersion ? parseKubeVersion(facts.kubernetesVersion) : undefined;
  if (!v) {
    throw new ConfigError(
      `the cluster ${facts.name} reports Kubernetes version "${facts.kubernetesVersion ?? '(none)'}", not major.minor.patch: set kubernetes.version`,
      [{ path: 'kubernetes.version', message: 'required when the cluster does not report a full version' }],
    );
  }
  return v.text;
}

/**
 * The version a mirror needs: there is no node, so no cluster to ask (see {@link kubernetesVersion}); the version
 * must be in the config. For `flexnode mirror sync` with {@link kubeArtifacts}.
 */
export function pinnedVersion(config: FlexnodeConfig): string {
  const configured = configuredVersion(config);
  if (configured) return configured;
  throw new ConfigError('kubernetes.version is not set: mirroring the Kubernetes binaries needs the version the nodes will run', [
    { path: 'kubernetes.version', message: 'required to mirror the Kubernetes binaries (a node would ask the cluster; a mirror cannot)' },
  ]);
}

/** Where a release comes from, for messages. */
const sourceOf = (release: KubeRelease) => (release.kind === 'binaries' ? release.artifacts[0]!.url.replace(/\/[^/]+$/, '/') : release.artifact.url);

/** Where the recorded install differs from what the config asks for now (another file, or another pinned sha256). */
function sourceChange(record: BinariesRecord, wanted: readonly KubeArtifact[]): string | undefined {
  if (record.artifacts.length !== wanted.length) return `installed from ${record.artifacts.map((a) => a.url).join(', ')}`;
  for (const [i, want] of wanted.entries()) {
    const had = record.artifacts[i]!;
    if (had.url !== want.url) return `installed from ${had.url}, the config now gives ${want.url}`;
    if (want.sha256 && want.sha256 !== had.sha256) return `${had.name} was verified as ${had.sha256}, the config now pins ${want.sha256}`;
  }
  return undefined;
}

/**
 * How the installed binaries differ from the release the config asks for (another version, source or pin, a
 * replaced or missing file, a wrong mode), from the record alone; undefined when they match.
 */
export async function installedDrift(
  host: Host,
  config: FlexnodeConfig,
  record: BinariesRecord,
  version: string,
  binaries: readonly ReleaseBinary[],
): Promise<string | undefined> {
  if (record.version !== version) return `Kubernetes ${record.version} is installed, the config asks for ${version}`;
  const changed = sourceChange(record, kubeArtifacts(config, host.arch, version, binaries));
  if (changed) return changed;
  for (const [path, expected] of Object.entries(record.files)) {
    const actual = await host.files.sha256(path);
    if (actual === undefined) return `${path} is absent`;
    if (actual !== expected) return `${path} has sha256 ${actual}, not the ${expected} of Kubernetes ${record.version}`;
    const mode = ((await host.files.stat(path))?.mode ?? 0) & 0o777;
    if (mode !== 0o755) return `${path} has mode ${mode.toString(8)}, expected 755`;
  }
  return undefined;
}

/** The artifact with the sha256 it is verified against: pinned, or fetched from beside it (through the Host). */
async function verifiable(host: Host, a: KubeArtifact): Promise<Artifact> {
  if (a.sha256) return { name: a.name, url: a.url, mirrorPath: a.mirrorPath, sha256: a.sha256 };
  const sha256 = await host.downloads.checksum({ name: a.name, url: a.sha256Url!, mirrorPath: a.sha256MirrorPath! });
  return { name: a.name, url: a.url, mirrorPath: a.mirrorPath, sha256 };
}

/**
 * Download `binaries` of a release, each file verified while it streams (a wrong one fails before anything is
 * unpacked or copied), and install them into `binDir` (0755). Returns what to record; undefined in a dry run.
 */
export async function installRelease(
  host: Host,
  config: FlexnodeConfig,
  release: KubeRelease,
  binaries: readonly ReleaseBinary[],
  binDir: string,
): Promise<BinariesRecord | undefined> {
  const artifacts = await Promise.all(kubeArtifacts(config, host.arch, release.version, binaries).map((a) => verifiable(host, a)));
  const downloaded = await Promise.all(artifacts.map((a) => host.downloads.fetch(a)));
  if (host.dryRun) {
    host.log.info(`would install ${binaries.join(', ')} ${release.version} into ${binDir}`);
    return undefined;
  }
  await host.files.mkdir(binDir);
  let files: Record<string, string>;
  if (release.kind === 'binaries') {
    files = {};
    for (const [i, a] of release.artifacts.entries()) {
      const path = `${binDir}/${a.bin}`;
      await host.files.copyFrom(downloaded[i]!, path, { mode: 0o755 });
      files[path] = artifacts[i]!.sha256;
    }
  } else {
    const staging = await host.downloads.unpack(downloaded[0]!);
    for (const member of Object.values(release.members)) {
      if ((await host.files.stat(`${stagedPath(host, staging)}/${member}`))?.type !== 'file') {
        throw new FlexnodeError('ARTIFACT_LAYOUT', `${release.artifact.name}: the tarball has no ${member}`, {
          hint: `a node tarball holds ${TARBALL_BIN_DIR}/{${binaries.join(',')}} (kubernetes-node-linux-<arch>.tar.gz of the Kubernetes release)`,
        });
      }
    }
    files = await installFiles(host, `${staging}/${TARBALL_BIN_DIR}`, binDir, binaries);
  }
  return { version: release.version, artifacts: artifacts.map(({ name, url, sha256 }) => ({ name, url, sha256 })), files };
}

/** What `kube.binaries` (steps.ts) downloads for a mirror: the release of the config's pinned version. */
export function binariesArtifacts(config: FlexnodeConfig, arch: Arch): KubeArtifact[] {
  return kubeArtifacts(config, arch, pinnedVersion(config));
}

/** The operations of `kube.binaries` (steps.ts): the release installed, recorded, checked against the record. */
export function binariesOps(
  { host, config, azure }: { host: Host; config: FlexnodeConfig; azure: AzureContext },
  readCluster: ClusterReader = defaultClusterReader,
): StepInstance {
  const { binDir } = kubePaths(config);
  const wanted = async () => {
    const record = findRecord<BinariesRecord>(host, BINARIES_RECORD);
    const version = await kubernetesVersion(host, config, azure, readCluster, 'kube.binaries', record?.version);
    return { record, release: kubeRelease(config, host.arch, version) };
  };

  const check = async (): Promise<CheckResult> => {
    const { record, release } = await wanted();
    if (!record) return missing(`Kubernetes ${release.version} is not installed`);
    const drift = await installedDrift(host, config, record, release.version, KUBE_BINARIES);
    if (drift) return drifted(drift);
    return ok(`Kubernetes ${record.version} (${host.arch}) from ${sourceOf(release)}`);
  };

  return {
    check,
    async install() {
      if ((await check()).status === 'ok') return;
      const { release } = await wanted();
      const record = await installRelease(host, config, release, KUBE_BINARIES, binDir);
      if (record) await replaceRecord(host, BINARIES_RECORD, record);
    },
    async uninstall() {
      await host.changes.revert();
      await host.changes.forget(BINARIES_RECORD);
    },
  };
}
