import type { FlexnodeConfig } from '@flexnode/sdk';

/** Defaults of `paths.cni`: where containerd's CRI plugin looks for plugins and network configs. */
export const CNI_DEFAULTS = { binDir: '/opt/cni/bin', confDir: '/etc/cni/net.d' } as const;

/** The default network's file: `99-` so that a real CNI (Cilium, Calico) dropping its own config sorts first. */
export const BRIDGE_CONFLIST = '99-bridge.conflist';

/** The CNI directories this config asks for. */
export function cniPaths(config: FlexnodeConfig): { binDir: string; confDir: string } {
  return {
    binDir: config.paths?.cni?.binDir ?? CNI_DEFAULTS.binDir,
    confDir: config.paths?.cni?.confDir ?? CNI_DEFAULTS.confDir,
  };
}
