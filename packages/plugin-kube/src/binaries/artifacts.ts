import { ConfigError, type Arch, type Artifact, type FlexnodeConfig, type KubernetesConfig } from '@flexnode/sdk';
import { KUBE_BINARIES, KUBE_CHECKSUMS, type KubeBinary } from './versions.js';

/**
 * `kubernetes.sha256` (a flexnode extension of upstream's `kubernetes` section, in core's schema): per binary, a
 * sha256 or `{amd64, arm64}`. It overrides the pinned table, and is required for versions the table lacks.
 */
export type KubernetesPins = KubernetesConfig & { sha256?: Partial<Record<KubeBinary, string | Partial<Record<Arch, string>>>> };

export const UPSTREAM_URL = (version: string, arch: Arch, bin: KubeBinary) => `https://dl.k8s.io/v${version}/bin/linux/${arch}/${bin}`;

/** Mirror layout: `kubernetes/v<version>/<binary>-linux-<arch>` (see the README). */
export const mirrorPathOf = (version: string, arch: Arch, bin: KubeBinary) => `kubernetes/v${version}/${bin}-linux-${arch}`;

const SHA256 = /^[0-9a-f]{64}$/;

export const normalizeVersion = (v: string) => v.trim().replace(/^v/, '');

/** Upstream's `kubernetes.urlTemplate`: `%s` placeholders filled with version, arch, binary in that order. */
export function fromTemplate(template: string, version: string, arch: Arch, bin: KubeBinary): string {
  const values = [version, arch, bin];
  let i = 0;
  return template.replace(/%s/g, () => values[i++] ?? '');
}

/** The artifact of one binary; ConfigError (exit 2) when its checksum is not pinned anywhere. */
export function kubeArtifact(config: FlexnodeConfig, version: string, arch: Arch, bin: KubeBinary): Artifact {
  const v = normalizeVersion(version);
  const pins = config.kubernetes as KubernetesPins | undefined;
  const pin = pins?.sha256?.[bin];
  const configured = typeof pin === 'string' ? pin : pin?.[arch];
  const sha256 = (configured ?? KUBE_CHECKSUMS[v]?.[bin]?.[arch])?.toLowerCase();
  if (sha256 === undefined) {
    throw new ConfigError(
      `${bin} ${v} (${arch}) has no pinned sha256: set kubernetes.sha256.${bin} in the config`,
      [{ path: `kubernetes.sha256.${bin}`, message: `required for Kubernetes ${v}, which flexnode does not pin` }],
      `pin the checksums published next to the binaries (https://dl.k8s.io/v${v}/bin/linux/${arch}/${bin}.sha256), e.g. "kubernetes": {"version": "${v}", "sha256": {${KUBE_BINARIES.map((b) => `"${b}": {"${arch}": "<sha256>"}`).join(', ')}}}; pinned versions: ${Object.keys(KUBE_CHECKSUMS).join(', ')}`,
    );
  }
  if (!SHA256.test(sha256)) {
    throw new ConfigError(`kubernetes.sha256.${bin} is not a sha256: "${sha256}"`, [{ path: `kubernetes.sha256.${bin}`, message: 'expected 64 hexadecimal characters' }]);
  }
  return {
    name: `${bin} ${v} (${arch})`,
    url: config.kubernetes?.urlTemplate ? fromTemplate(config.kubernetes.urlTemplate, v, arch, bin) : UPSTREAM_URL(v, arch, bin),
    mirrorPath: mirrorPathOf(v, arch, bin),
    sha256,
  };
}
