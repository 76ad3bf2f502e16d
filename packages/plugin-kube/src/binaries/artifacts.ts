import { ConfigError, type Arch, type FlexnodeConfig, type KubernetesConfig, type MirrorArtifact } from '@flexnode/sdk';
import { parseKubeVersion, type KubeVersion } from '../version.js';
import { fillUrlTemplate } from './url-template.js';
import { KUBE_BINARIES, KUBE_CHECKSUMS, type KubeBinary, type ReleaseBinary } from './versions.js';

/** The key of the node tarball in `kubernetes.sha256` (its file name without `-linux-<arch>.tar.gz`). */
export const NODE_TARBALL = 'kubernetes-node';
export type KubePinKey = ReleaseBinary | typeof NODE_TARBALL;

/**
 * `kubernetes.sha256` (a flexnode extension of upstream's `kubernetes` section, in core's schema): per binary, or
 * for the node tarball, a sha256 or `{amd64, arm64}`. It wins over the pinned table and over published checksums.
 */
export type KubernetesPins = KubernetesConfig & { sha256?: Partial<Record<KubePinKey, string | Partial<Record<Arch, string>>>> };

/** dl.k8s.io, where every upstream release file has its `.sha256` beside it (kubernetes/release pkg/release/release.go). */
export const DL_K8S_IO = 'https://dl.k8s.io';
/** AKS's own mirror (formerly acs-mirror.azureedge.net): it has AKS's builds (LTS) and publishes no checksums. */
export const AKS_MIRROR = 'https://packages.aks.azure.com';
const PUBLISHES_CHECKSUMS = new Set(['dl.k8s.io', 'cdn.dl.k8s.io']);

/** One file to download, with how it is verified: the SDK's mirror-sync artifact, so `mirror sync` takes it as is. */
export type KubeArtifact = MirrorArtifact;

/** Where the binaries come from: one file per binary, or the node tarball with the binaries at `members`. */
export type KubeRelease =
  | { readonly kind: 'binaries'; readonly version: string; readonly artifacts: readonly (KubeArtifact & { readonly bin: ReleaseBinary })[] }
  | {
      readonly kind: 'node-tarball';
      readonly version: string;
      readonly artifact: KubeArtifact;
      readonly members: Readonly<Partial<Record<ReleaseBinary, string>>>;
    };

/** Where the node tarball keeps the binaries (kubernetes/release: `kubernetes/node/bin/*`). */
export const TARBALL_BIN_DIR = 'kubernetes/node/bin';

const SHA256 = /^[0-9a-f]{64}$/;

/** A version flexnode can download; ConfigError (exit 2) naming the field otherwise. */
export function kubeVersionOf(text: string): KubeVersion {
  const v = parseKubeVersion(text);
  if (!v) {
    throw new ConfigError(`"${text}" is not a Kubernetes version (major.minor.patch, e.g. 1.35.2 or 1.30.101-akslts)`, [
      { path: 'kubernetes.version', message: 'expected major.minor.patch' },
    ]);
  }
  return v;
}

/** The configured sha256 for `key` and this arch, lowercased and checked, or undefined. */
function configuredPin(config: FlexnodeConfig, key: KubePinKey, arch: Arch): string | undefined {
  const pin = (config.kubernetes as KubernetesPins | undefined)?.sha256?.[key];
  const value = (typeof pin === 'string' ? pin : pin?.[arch])?.toLowerCase();
  if (value !== undefined && !SHA256.test(value)) {
    throw new ConfigError(`kubernetes.sha256.${key} is not a sha256: "${value}"`, [
      { path: `kubernetes.sha256.${key}`, message: 'expected 64 hexadecimal characters' },
    ]);
  }
  return value;
}

/** How a file with a checksum published at `sha256Url` is verified: the pin when there is one, else that file. */
function verified(
  artifact: Omit<KubeArtifact, 'sha256' | 'sha256Url' | 'sha256MirrorPath'>,
  pin: string | undefined,
  sha256Url: string | undefined,
): KubeArtifact {
  if (pin) return { ...artifact, sha256: pin };
  if (sha256Url) return { ...artifact, sha256Url, sha256MirrorPath: `${artifact.mirrorPath}.sha256` };
  return artifact;
}

/**
 * Where Kubernetes `version` comes from for this config and arch, and how each file is verified: a pure function
 * of (config, arch, version), no network. In order:
 *
 * - `kubernetes.urlTemplate` (upstream's field): the node tarball at the URL Go's Sprintf(template, version, arch)
 *   makes. Verified by `kubernetes.sha256["kubernetes-node"]`, else by the `.sha256` beside it when the template
 *   points at dl.k8s.io, else by the `.sha256` of the same tarball on dl.k8s.io (AKS's mirror publishes none).
 * - an AKS build (`1.30.101-akslts`): dl.k8s.io does not have it; AKS's mirror's node tarball, verified by the
 *   configured sha256 only.
 * - an upstream release: each binary from dl.k8s.io, verified by `kubernetes.sha256.<binary>`, else the pinned
 *   table, else its published `.sha256`.
 *
 * A file nothing can verify is refused (ConfigError, exit 2) with the choices named. With `artifacts.mirror` the
 * Host fetches every file (and `.sha256`) from its mirror path instead: `kubernetes/v<version>/<file>`.
 * `binaries`: which of the release's binaries (default kubelet, kubectl, kubeadm; kube.proxy asks for kube-proxy).
 */
export function kubeRelease(config: FlexnodeConfig, arch: Arch, versionText: string, binaries: readonly ReleaseBinary[] = KUBE_BINARIES): KubeRelease {
  const v = kubeVersionOf(versionText);
  const version = v.text;
  const template = config.kubernetes?.urlTemplate;
  if (template || !v.upstream) {
    const file = `kubernetes-node-linux-${arch}.tar.gz`;
    const url = template ? fillUrlTemplate(template, [version, arch]) : `${AKS_MIRROR}/kubernetes/v${version}/binaries/${file}`;
    const base = { name: `Kubernetes node ${version} (${arch})`, url, mirrorPath: `kubernetes/v${version}/${file}` };
    const published = publishesChecksums(url) ? `${url}.sha256` : v.upstream ? `${DL_K8S_IO}/v${version}/${file}.sha256` : undefined;
    const artifact = verified(base, configuredPin(config, NODE_TARBALL, arch), published);
    if (!artifact.sha256 && !artifact.sha256Url) throw unverifiable(artifact, v, arch);
    const members = Object.fromEntries(binaries.map((b) => [b, `${TARBALL_BIN_DIR}/${b}`])) as Partial<Record<ReleaseBinary, string>>;
    return { kind: 'node-tarball', version, artifact, members };
  }
  const artifacts = binaries.map((bin) => {
    const url = `${DL_K8S_IO}/v${version}/bin/linux/${arch}/${bin}`;
    const pin = configuredPin(config, bin, arch) ?? (bin === 'kube-proxy' ? undefined : KUBE_CHECKSUMS[version]?.[bin as KubeBinary]?.[arch]);
    return { bin, ...verified({ name: `${bin} ${version} (${arch})`, url, mirrorPath: `kubernetes/v${version}/${bin}-linux-${arch}` }, pin, `${url}.sha256`) };
  });
  return { kind: 'binaries', version, artifacts };
}

/**
 * The files of a release, for `flexnode mirror sync` (same order as they are installed); a mirror for nodes that
 * run kube-proxy themselves adds `[KUBE_PROXY]` (a node tarball is the same file either way).
 */
export function kubeArtifacts(config: FlexnodeConfig, arch: Arch, version: string, binaries: readonly ReleaseBinary[] = KUBE_BINARIES): KubeArtifact[] {
  const release = kubeRelease(config, arch, version, binaries);
  return release.kind === 'binaries' ? release.artifacts.map(({ bin: _bin, ...a }) => a) : [release.artifact];
}

/** Only dl.k8s.io is known to publish a `.sha256` beside each file; anything else may or may not. */
function publishesChecksums(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && PUBLISHES_CHECKSUMS.has(u.hostname);
  } catch {
    throw new ConfigError(`kubernetes.urlTemplate makes "${url}", which is not a URL`, [
      { path: 'kubernetes.urlTemplate', message: 'expected an http(s) URL with %s for the version and the arch' },
    ]);
  }
}

function unverifiable(artifact: KubeArtifact, v: KubeVersion, arch: Arch): ConfigError {
  const why = v.upstream ? '' : ` (${v.text} is an AKS build: dl.k8s.io has no copy whose checksum could vouch for it)`;
  return new ConfigError(
    `${artifact.name} from ${artifact.url} cannot be verified: that server publishes no checksum${why}, and kubernetes.sha256.${NODE_TARBALL} is not set`,
    [{ path: `kubernetes.sha256.${NODE_TARBALL}`, message: `required for ${artifact.url}` }],
    `choose one: pin the tarball's sha256 from a source you trust, "kubernetes": {"sha256": {"${NODE_TARBALL}": {"${arch}": "<sha256>"}}}; ` +
      `or use an upstream release (dl.k8s.io publishes a .sha256 for each file) by removing kubernetes.urlTemplate and setting kubernetes.version to one` +
      (v.upstream ? '' : ` (the LTS line's upstream counterpart is ${v.major}.${v.minor}.x)`),
  );
}
