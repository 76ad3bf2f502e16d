import { renderUnitFile } from '@flexnode/sdk';
import type { KubePaths } from '../paths.js';
import { atLeast, type KubeVersion } from '../version.js';
import { toYaml } from '../yaml-text.js';

export interface KubeProxyInput {
  nodeName: string;
  /** The pods' ranges kube-proxy treats as local traffic (clusterCIDR; one per IP family); empty: not set. */
  clusterCIDRs: readonly string[];
  version: KubeVersion;
}

/**
 * kube-proxy's KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1; field names of the Go types in
 * kubernetes staging/src/k8s.io/kube-proxy/config/v1alpha1/types.go): the iptables mode (AKS's default,
 * aks-docs configure-kube-proxy.md), the node identity's kubeconfig, the Node name the kubelet registers, and
 * clusterCIDR for telling pod traffic from the rest (detectLocalMode ClusterCIDR: traffic to a Service from
 * outside it is masqueraded, so its replies come back through this node). The health and metrics addresses are
 * kube-proxy's defaults, written out; `nodePortAddresses: [primary]` (kube-proxy 1.30 and later, kubernetes PR
 * #123105) serves NodePorts on the node's own addresses only, not on every local address (kube-proxy warns without it).
 */
export function kubeProxyConfiguration(paths: KubePaths, input: KubeProxyInput): Record<string, unknown> {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: paths.kubeProxyKubeconfig },
    hostnameOverride: input.nodeName,
    mode: 'iptables',
    ...(input.clusterCIDRs.length ? { clusterCIDR: input.clusterCIDRs.join(','), detectLocalMode: 'ClusterCIDR' } : {}),
    healthzBindAddress: '0.0.0.0:10256',
    metricsBindAddress: '127.0.0.1:10249',
    ...(atLeast(input.version, 1, 30) ? { nodePortAddresses: ['primary'] } : {}),
  };
}

export async function renderKubeProxyConfig(paths: KubePaths, input: KubeProxyInput): Promise<string> {
  return `# Written by flexnode (step kube.proxy).\n${await toYaml(kubeProxyConfiguration(paths, input))}`;
}

/**
 * kube-proxy.service: the binary with its configuration file (every other setting lives there), restarted when it
 * stops. It wants the network up; it needs no container runtime.
 */
export function kubeProxyUnit(paths: KubePaths): string {
  return renderUnitFile({
    comment: `Written by flexnode (step kube.proxy). Settings: ${paths.kubeProxyConfig}.`,
    sections: {
      Unit: [
        ['Description', 'kube-proxy: Kubernetes Services on this node (flexnode)'],
        ['Documentation', 'https://kubernetes.io/docs/reference/command-line-tools-reference/kube-proxy/'],
        ['Wants', 'network-online.target'],
        ['After', 'network-online.target'],
        ['StartLimitIntervalSec', 0],
      ],
      Service: [
        ['EnvironmentFile', paths.kubeProxyEnvironmentFile],
        ['ExecStart', { command: [`${paths.binDir}/kube-proxy`, `--config=${paths.kubeProxyConfig}`, '--v=2'] }],
        ['Restart', 'always'],
        ['RestartSec', 10],
      ],
      Install: [['WantedBy', 'multi-user.target']],
    },
  });
}
