import type { FlexnodeConfig } from '@flexnode/sdk';
import type { NodeComponent } from './node-rules.js';

/**
 * The node's components that authenticate with the Arc identity, and so need their rules in flexnode's role. The
 * kubelet always; kube-proxy when flexnode runs it with the node identity (`kubernetes.serviceProxy: "flexnode"`,
 * the service-proxy capability's flexnode-run mode, which names the field; with `auto` the caller resolving it must
 * pass the components itself). In `bootstrap-token` mode none does: the kubelet has its own certificate.
 */
export function nodeComponents(config: FlexnodeConfig): NodeComponent[] {
  const proxy = (config.kubernetes as { serviceProxy?: string } | undefined)?.serviceProxy;
  return proxy === 'flexnode' ? ['kubelet', 'kube-proxy'] : ['kubelet'];
}
