import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installStandin } from '../fakes/standins/install.js';
import type { ArtifactManifest } from './build-artifacts.js';

/**
 * Put a Kubernetes release into a rig's mirror, in dl.k8s.io's layout: the kubelet and kube-proxy STAND-INS (no
 * real kubelet can run here), kubectl/kubeadm stubs. kubelet, kubectl and kubeadm are returned as pins for the
 * config; kube-proxy gets the `.sha256` file dl.k8s.io publishes beside it and no pin, as a node that runs its own
 * kube-proxy verifies it. `work` holds the built files.
 */
export async function addKubeRelease(manifest: ArtifactManifest, work: string, version: string): Promise<Record<string, string>> {
  const bins = join(work, 'bins');
  installStandin('kubelet', join(bins, 'kubelet'), { kubeletVersion: version });
  installStandin('kube-proxy', join(bins, 'kube-proxy'), { kubeletVersion: version });
  for (const b of ['kubectl', 'kubeadm']) writeFileSync(join(bins, b), `#!/bin/sh\necho "${b} stand-in"\n`, { mode: 0o755 });
  const pins: Record<string, string> = {};
  for (const b of ['kubelet', 'kubectl', 'kubeadm']) pins[b] = (await manifest.addFile(`kubernetes/v${version}/${b}-linux-${manifest.arch}`, join(bins, b))).sha256;
  const proxyPath = `kubernetes/v${version}/kube-proxy-linux-${manifest.arch}`;
  await manifest.addFile(proxyPath, join(bins, 'kube-proxy'));
  await manifest.addChecksum(proxyPath, join(work, 'sums'));
  return pins;
}
