import { renderEnvironmentFile, renderUnitFile, type ContainerRuntimeService } from '@flexnode/sdk';
import type { KubePaths } from '../paths.js';
import { atLeast, type KubeVersion } from '../version.js';

/**
 * kubelet.service: the binary only; the drop-in gives it its flags (the layout kubeadm's packages use). Ordered after
 * the container runtime's unit (from its service), which it wants but does not require: a kubelet whose runtime is
 * down reports the node NotReady rather than not running at all.
 */
export function kubeletUnit(paths: KubePaths, runtime: Pick<ContainerRuntimeService, 'unit'>): string {
  return renderUnitFile({
    comment: `Written by flexnode (step kube.kubelet). Flags: ${paths.dropIn}.`,
    sections: {
      Unit: [
        ['Description', 'kubelet: the Kubernetes node agent (flexnode)'],
        ['Documentation', 'https://kubernetes.io/docs/reference/command-line-tools-reference/kubelet/'],
        ['Wants', `network-online.target ${runtime.unit}`],
        ['After', `network-online.target ${runtime.unit}`],
        ['StartLimitIntervalSec', 0],
      ],
      Service: [
        ['ExecStart', { command: [`${paths.binDir}/kubelet`] }],
        ['Restart', 'always'],
        ['RestartSec', 10],
      ],
      Install: [['WantedBy', 'multi-user.target']],
    },
  });
}

/** What the kubelet's command line is made of. */
export interface KubeletFlags {
  nodeName: string;
  labels: Record<string, string>;
  /** `--node-ip`: the configured address, else the source address of the route to the API server. */
  nodeIP?: string;
  /** The container runtime's sandbox (pause) image, for kubelets that still take it as a flag. */
  sandboxImage?: string;
  /** The container runtime's systemd unit: the kubelet reports its cgroup's usage (`--runtime-cgroups`, as AKS). */
  runtimeUnit?: string;
  version: KubeVersion;
  /** bootstrap-token mode: TLS bootstrapping from `--bootstrap-kubeconfig`, certificates kept in `--cert-dir`. */
  tlsBootstrap?: boolean;
}

/**
 * The kubelet's command line. Every flag is one the real kubelet of that version has and the stand-in accepts: the
 * rest of the settings live in the KubeletConfiguration file (the flags for them are deprecated).
 * `--pod-infra-container-image` only goes to kubelets before 1.27: from 1.27 it is deprecated (the image garbage
 * collector learns the sandbox image from the runtime, over CRI, and containerd's config.toml names it), and 1.35
 * removed it (a kubelet given it does not start).
 */
export function kubeletArgs(paths: KubePaths, flags: KubeletFlags): string[] {
  return [
    `--config=${paths.kubeletConfig}`,
    `--kubeconfig=${paths.kubeconfig}`,
    ...(flags.tlsBootstrap ? [`--bootstrap-kubeconfig=${paths.bootstrapKubeconfig}`, `--cert-dir=${paths.certDir}`] : []),
    `--hostname-override=${flags.nodeName}`,
    `--node-labels=${Object.entries(flags.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}`,
    ...(flags.nodeIP ? [`--node-ip=${flags.nodeIP}`] : []),
    ...(flags.runtimeUnit ? [`--runtime-cgroups=/system.slice/${flags.runtimeUnit}`] : []),
    ...(flags.sandboxImage && !atLeast(flags.version, 1, 27) ? [`--pod-infra-container-image=${flags.sandboxImage}`] : []),
    '--v=2',
  ];
}

/**
 * The kubelet's proxy environment file (0600: a proxy URL may carry a user and password, which a 0644 drop-in
 * would show to every local user). Written even when empty, so removing the proxy from the config empties it.
 */
export function kubeletEnvironmentFile(env: Record<string, string>): string {
  return renderEnvironmentFile(env, 'Written by flexnode (step kube.kubelet): the proxy environment of kubelet.service.');
}

/** 10-flexnode.conf: ExecStart with the flags, and the proxy environment read from its 0600 file. */
export function kubeletDropIn(paths: KubePaths, args: readonly string[]): string {
  return renderUnitFile({
    comment: 'Written by flexnode (step kube.kubelet).',
    sections: {
      Service: [
        ['EnvironmentFile', paths.environmentFile],
        ['ExecStart', ''],
        ['ExecStart', { command: [`${paths.binDir}/kubelet`, ...args] }],
      ],
    },
  });
}
