import type { FlexnodeConfig } from '@flexnode/sdk';

/** How the kubelet authenticates to the API server (`kubernetes.auth`; README "Two ways to authenticate the kubelet"). */
export type KubeletAuth = 'arc-msi' | 'bootstrap-token';

export function kubeletAuth(config: FlexnodeConfig): KubeletAuth {
  return config.kubernetes?.auth ?? 'arc-msi';
}
