import type { FlexnodeConfig } from '@flexnode/sdk';

/**
 * The sandbox (pause) image of AKS's nodes: AgentBaker's current default (e2e/node_config.go
 * PodInfraContainerImageURL, since Aug 2026; 3.6 before, upstream's flex node 3.9). `containerd.pauseImage` overrides it.
 */
export const DEFAULT_PAUSE_IMAGE = 'mcr.microsoft.com/oss/v2/kubernetes/pause:3.10.2';

/** The sandbox image of this config: `containerd.pauseImage`, else {@link DEFAULT_PAUSE_IMAGE}. */
export const sandboxImage = (config: FlexnodeConfig): string => config.containerd?.pauseImage ?? DEFAULT_PAUSE_IMAGE;
