// Kubernetes releases for the test mirror, in dl.k8s.io's layout with the `.sha256` published beside every file
// (nodes verify against it, no checksum in the config): the kubelet and kube-proxy STAND-INs of that version (a
// broken kubelet build on request: never Ready), and kubectl/kubeadm stand-in scripts. Built once per version per
// test run.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installStandin } from '../fakes/standins/install.js';
import type { ArtifactManifest } from './build-artifacts.js';

export const KUBE_BINARIES = ['kubelet', 'kubectl', 'kubeadm', 'kube-proxy'] as const;

/**
 * Add release `version` under `kubernetes/v<version>/<binary>-linux-<arch>` (and its .sha256) to the manifest.
 * Returns the sha256 of kubelet, kubectl and kubeadm, for a config that pins them (`kubernetes.sha256`); kube-proxy
 * is left to its published `.sha256`, as a node that runs its own verifies it.
 */
export async function addKubeRelease(
  manifest: ArtifactManifest,
  work: string,
  version: string,
  opts: { neverReady?: boolean } = {},
): Promise<Record<string, string>> {
  const bins = join(work, 'kube-release', version);
  installStandin('kubelet', join(bins, 'kubelet'), { kubeletVersion: version, neverReady: opts.neverReady });
  installStandin('kube-proxy', join(bins, 'kube-proxy'), { kubeletVersion: version });
  for (const b of ['kubectl', 'kubeadm']) writeFileSync(join(bins, b), `#!/bin/sh\necho "${b} ${version} stand-in"\n`, { mode: 0o755 });
  const pins: Record<string, string> = {};
  for (const b of KUBE_BINARIES) {
    const path = `kubernetes/v${version}/${b}-linux-${manifest.arch}`;
    const { sha256 } = await manifest.addFile(path, join(bins, b));
    await manifest.addChecksum(path, join(bins, 'sums'));
    if (b !== 'kube-proxy') pins[b] = sha256;
  }
  return pins;
}
