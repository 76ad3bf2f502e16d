import { httpsKubeClient, type ApiAnswer, type KubeClient, type NodeApiOptions } from '../kubelet/api.js';
import { nodesApi, type NodesApi } from '../network/nodes.js';

/**
 * The calls node maintenance makes besides the Node's own (read, cordon as a merge patch, delete): the pods bound to
 * the node, the Eviction API, the upgrade slots (Leases) and the API server's version. Which identity makes them is
 * the caller's choice (plugin-kube's README, "Who makes which call").
 */
export interface KubeApi extends NodesApi {
  /** GET pods in all namespaces with `fieldSelector=spec.nodeName=<node>` (the Node authorizer requires the selector). */
  listNodePods(node: string): Promise<ApiAnswer>;
  /** POST pods/<name>/eviction (policy/v1 Eviction). */
  evictPod(namespace: string, name: string): Promise<ApiAnswer>;
  getLease(namespace: string, name: string): Promise<ApiAnswer>;
  createLease(namespace: string, lease: Record<string, unknown>): Promise<ApiAnswer>;
  /** PUT, with the resourceVersion it read (409 Conflict when someone else wrote it since). */
  updateLease(namespace: string, name: string, lease: Record<string, unknown>): Promise<ApiAnswer>;
  /** GET /version (readable by every identity: the `system:public-info-viewer` ClusterRole). */
  version(): Promise<ApiAnswer>;
}

/** How the API client is made; tests inject a fake. */
export type KubeApiFactory = (options: NodeApiOptions) => KubeApi;

const LEASES = (namespace: string) => `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;

/** The maintenance calls over a client of one identity. */
export function kubeApi(client: KubeClient): KubeApi {
  return {
    ...nodesApi(client),
    listNodePods: (name) => client.call('GET', `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${name}`)}`),
    evictPod: (namespace, name) =>
      client.call('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/eviction`, {
        json: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } },
      }),
    getLease: (namespace, name) => client.call('GET', `${LEASES(namespace)}/${encodeURIComponent(name)}`),
    createLease: (namespace, lease) => client.call('POST', LEASES(namespace), { json: lease }),
    updateLease: (namespace, name, lease) => client.call('PUT', `${LEASES(namespace)}/${encodeURIComponent(name)}`, { json: lease }),
    version: () => client.call('GET', '/version'),
  };
}

/** KubeApi over node:https, trusting exactly the cluster CA. */
export const httpsKubeApi: KubeApiFactory = (options) => kubeApi(httpsKubeClient(options));
