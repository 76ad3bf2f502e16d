import type { Host, NodeIdentity } from '@flexnode/sdk';
import { AKS_SCOPE } from '../cluster/cluster.js';
import { readKubeconfig } from '../cluster/kubeconfig.js';
import type { KubePaths } from '../paths.js';
import { httpsNodeApi, type KubeApi, type NodeApiOptions } from './api.js';

/** How the API client is made; tests inject a fake. */
export type KubeApiFactory = (options: NodeApiOptions) => KubeApi;

/** The API server as the kubelet reaches it: its kubeconfig's server and CA, the node identity's token. */
export interface NodeClient {
  api: KubeApi;
  server: string;
}

/** The node's client of its API server, from the kubelet's kubeconfig (undefined while there is none). */
export async function nodeClient(host: Host, paths: Pick<KubePaths, 'kubeconfig'>, identity: NodeIdentity, make: KubeApiFactory = httpsNodeApi): Promise<NodeClient | undefined> {
  const text = await host.files.readText(paths.kubeconfig);
  const kc = text === undefined ? undefined : await readKubeconfig(text);
  if (!kc) return undefined;
  return { server: kc.server, api: make({ server: kc.server, caPem: kc.caPem, token: async () => (await identity.getToken(AKS_SCOPE)).token }) };
}
