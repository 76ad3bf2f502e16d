import type { Arch, FlexnodeConfig } from './config.js';

/**
 * A file a step downloads, as `flexnode mirror sync` needs to know it: where it comes from, where it lives in a
 * mirror (`artifacts.mirror`), and how it is verified. The same fields as the Host's `Artifact`, except that
 * the checksum may be published rather than pinned: give `sha256`, or `sha256Url`, or both (they must agree).
 */
export interface MirrorArtifact {
  /** Human name used in messages, e.g. `containerd 1.7.22 (amd64)`. */
  readonly name: string;
  /** The upstream URL. */
  readonly url: string;
  /** Path under a mirror base URL, `<component>/v<version>/<file>`: where a node configured with the mirror fetches it. */
  readonly mirrorPath: string;
  /** Pinned sha256, lowercase hex. */
  readonly sha256?: string;
  /**
   * A published checksum file (`sha256sum` format, or the bare hex digest), e.g. `<url>.sha256`: fetched and the
   * download verified against it. Use it where upstream publishes one and flexnode pins nothing.
   */
  readonly sha256Url?: string;
  /**
   * Where the mirror keeps a copy of that checksum file, for nodes that verify against it (e.g.
   * `kubernetes/v1.30.4/kubelet-linux-amd64.sha256`). Omit it when nodes need only the pinned value.
   */
  readonly sha256MirrorPath?: string;
}

/**
 * A step's artifacts for a config and an architecture: what a node with that config downloads in this step.
 * Pure: it must not touch the machine or the network (mirror sync runs on a machine that is not the node),
 * and it is asked only when the step applies to the config (`when`) and its plugin provides the capability.
 * May throw a `ConfigError` naming the field that is needed (e.g. a version the cluster would otherwise give).
 */
export type ArtifactsHook = (config: FlexnodeConfig, arch: Arch) => readonly MirrorArtifact[] | Promise<readonly MirrorArtifact[]>;
