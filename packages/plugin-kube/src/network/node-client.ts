import type { FlexnodeConfig, Host, NodeIdentity } from '@flexnode/sdk';
import { AKS_SCOPE } from '../cluster/cluster.js';
import { readKubeconfig } from '../cluster/kubeconfig.js';
import { kubePaths } from '../paths.js';
import { httpsNodesApi, type NodesApi, type NodesApiOptions } from './nodes.js';

/**
 * The Nodes API with the node's own identity, at the server and CA of the kubeconfig kube.cluster-credentials
 * wrote; undefined while there is none (the node has not joined).
 */
export async function nodeIdentityApi(host: Host, config: FlexnodeConfig, identity: NodeIdentity, make: (o: NodesApiOptions) => NodesApi = httpsNodesApi): Promise<{ api: NodesApi; server: string } | undefined> {
  const text = await host.files.readText(kubePaths(config).kubeconfig);
  const kc = text === undefined ? undefined : await readKubeconfig(text);
  if (!kc) return undefined;
  return { server: kc.server, api: make({ server: kc.server, caPem: kc.caPem, token: async () => (await identity.getToken(AKS_SCOPE)).token }) };
}
