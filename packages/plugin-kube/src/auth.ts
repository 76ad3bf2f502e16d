import type { FlexnodeConfig } from '@flexnode/sdk';

/** How the kubelet authenticates to the API server (`kubernetes.auth`; README "Two ways to authenticate the kubelet"). */
export type KubeletAuth = 'arc-msi' | 'bootstrap-token';

export function kubeletAuth(config: FlexnodeConfig): KubeletAuth {
  return config.kubernetes?.auth ?? 'arc-msi';
}

/**
 * Whether this node gets an Arc identity: Arc is on, or another plugin provides `arc-identity`. Without one, nothing
 * of flexnode's may authenticate with it (the kubelet in arc-msi mode: config validation refuses that; kube-proxy).
 */
export function hasArcIdentity(config: FlexnodeConfig): boolean {
  const provider = config.plugins?.['arc-identity'];
  return config.azure.arc?.enabled !== false || (provider !== undefined && provider !== '@flexnode/plugin-arc');
}
