import type { ContainerRuntimeService, FlexnodeConfig } from '@flexnode/sdk';
import type { KubePaths } from '../paths.js';
import { atLeast, type KubeVersion } from '../version.js';

/**
 * kubelet.service: the binary only; the drop-in gives it its flags (the layout kubeadm's packages use). Ordered after
 * the container runtime's unit (from its service), which it wants but does not require: a kubelet whose runtime is
 * down reports the node NotReady rather than not running at all.
 */
export function kubeletUnit(paths: KubePaths, runtime: Pick<ContainerRuntimeService, 'unit'>): string {
  return `# Written by flexnode (step kube.kubelet). Flags: ${paths.dropIn}.
[Unit]
Description=kubelet: the Kubernetes node agent (flexnode)
Documentation=https://kubernetes.io/docs/reference/command-line-tools-reference/kubelet/
Wants=network-online.target ${runtime.unit}
After=network-online.target ${runtime.unit}
StartLimitIntervalSec=0

[Service]
ExecStart=${paths.binDir}/kubelet
Restart=always
RestartSec=10

[Install]
WantedBy=multi-user.target
`;
}

/** `%` is a specifier in unit files; `\\` and `"` need escaping inside a quoted word. */
const unitWord = (s: string) => {
  const escaped = s.replace(/%/g, '%%');
  return /[\s"'\\;]/.test(escaped) ? `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : escaped;
};

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
    `--hostname-override=${flags.nodeName}`,
    `--node-labels=${Object.entries(flags.labels).map(([k, v]) => `${k}=${v}`).join(',')}`,
    ...(flags.nodeIP ? [`--node-ip=${flags.nodeIP}`] : []),
    ...(flags.runtimeUnit ? [`--runtime-cgroups=/system.slice/${flags.runtimeUnit}`] : []),
    ...(flags.sandboxImage && !atLeast(flags.version, 1, 27) ? [`--pod-infra-container-image=${flags.sandboxImage}`] : []),
    '--v=2',
  ];
}

/** Proxy variables for the kubelet (and the exec credential plugin it runs) from the config's `proxy`. */
export function proxyEnvironment(config: FlexnodeConfig): Record<string, string> {
  const p = config.proxy ?? {};
  return {
    ...(p.http ? { HTTP_PROXY: p.http, http_proxy: p.http } : {}),
    ...(p.https ? { HTTPS_PROXY: p.https, https_proxy: p.https } : {}),
    ...(p.noProxy ? { NO_PROXY: p.noProxy, no_proxy: p.noProxy } : {}),
  };
}

/** 10-flexnode.conf: ExecStart with the flags, and the proxy environment. */
export function kubeletDropIn(paths: KubePaths, args: readonly string[], env: Record<string, string>): string {
  const envLines = Object.entries(env).map(([k, v]) => `Environment=${unitWord(`${k}=${v}`)}\n`).join('');
  return `# Written by flexnode (step kube.kubelet).
[Service]
${envLines}ExecStart=
ExecStart=${paths.binDir}/kubelet ${args.map(unitWord).join(' ')}
`;
}

/** The argv of the drop-in's ExecStart (for tests that run the kubelet stand-in directly). */
export function execStartOf(dropIn: string): string[] {
  const line = dropIn.split('\n').filter((l) => l.startsWith('ExecStart=') && l !== 'ExecStart=').pop();
  if (!line) return [];
  return line.slice('ExecStart='.length).split(' ').map((w) => w.replace(/^"(.*)"$/, '$1').replace(/%%/g, '%'));
}
