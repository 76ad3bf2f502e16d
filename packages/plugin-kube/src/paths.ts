import type { FlexnodeConfig } from '@flexnode/sdk';

/** The systemd unit of the kubelet. */
export const KUBELET_UNIT = 'kubelet.service';
/** The systemd unit of the kube-proxy flexnode runs (service proxy mode `flexnode`). */
export const KUBE_PROXY_UNIT = 'kube-proxy.service';

/** Where the kubelet side of a node lives; `paths.kubernetes.*` (upstream's overrides) move the directories. */
export interface KubePaths {
  configDir: string;
  certsDir: string;
  kubeletDir: string;
  volumePluginDir: string;
  /** The cluster CA (the kubelet's --client-ca-file / authentication.x509.clientCAFile). */
  caCert: string;
  /**
   * The kubelet's kubeconfig, 0600: in arc-msi mode flexnode's (server, CA and the exec credential user); in
   * bootstrap-token mode the kubelet's own, written after TLS bootstrapping (its client certificate as user).
   */
  kubeconfig: string;
  /** bootstrap-token mode: the kubelet's `--bootstrap-kubeconfig` (server, CA, the bootstrap token), 0600. */
  bootstrapKubeconfig: string;
  /** bootstrap-token mode: the kubelet's `--cert-dir`, where it keeps `kubelet-client-<time>.pem`. */
  certDir: string;
  /** The KubeletConfiguration. */
  kubeletConfig: string;
  binDir: string;
  unitDir: string;
  unit: string;
  dropInDir: string;
  dropIn: string;
  /** The kubelet's proxy environment (EnvironmentFile= of the drop-in), 0600. */
  environmentFile: string;
  /** kube-proxy's directory: its KubeProxyConfiguration and kubeconfig. */
  kubeProxyDir: string;
  kubeProxyConfig: string;
  /** kube-proxy's kubeconfig (the node identity, like the kubelet's), 0600. */
  kubeProxyKubeconfig: string;
  kubeProxyUnit: string;
  /** kube-proxy's proxy environment, 0600. */
  kubeProxyEnvironmentFile: string;
}

export function kubePaths(config: FlexnodeConfig): KubePaths {
  const k = config.paths?.kubernetes ?? {};
  const configDir = k.configDir ?? '/etc/kubernetes';
  const certsDir = k.certsDir ?? `${configDir}/certs`;
  const kubeletDir = k.kubeletDir ?? '/var/lib/kubelet';
  const unitDir = '/etc/systemd/system';
  const dropInDir = `${unitDir}/${KUBELET_UNIT}.d`;
  return {
    configDir,
    certsDir,
    kubeletDir,
    volumePluginDir: k.volumePluginDir ?? `${configDir}/volumeplugins`,
    caCert: `${certsDir}/ca.crt`,
    kubeconfig: `${kubeletDir}/kubeconfig`,
    bootstrapKubeconfig: `${kubeletDir}/bootstrap-kubeconfig`,
    certDir: `${kubeletDir}/pki`,
    kubeletConfig: `${kubeletDir}/config.yaml`,
    binDir: '/usr/local/bin',
    unitDir,
    unit: `${unitDir}/${KUBELET_UNIT}`,
    dropInDir,
    dropIn: `${dropInDir}/10-flexnode.conf`,
    environmentFile: `${configDir}/kubelet-flexnode.env`,
    kubeProxyDir: '/var/lib/kube-proxy',
    kubeProxyConfig: '/var/lib/kube-proxy/config.yaml',
    kubeProxyKubeconfig: '/var/lib/kube-proxy/kubeconfig',
    kubeProxyUnit: `${unitDir}/${KUBE_PROXY_UNIT}`,
    kubeProxyEnvironmentFile: `${configDir}/kube-proxy-flexnode.env`,
  };
}
