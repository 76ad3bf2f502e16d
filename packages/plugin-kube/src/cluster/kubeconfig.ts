import type { NodeIdentity } from '@flexnode/sdk';
import { AKS_SERVER_APP_ID } from './cluster.js';
import { fromYaml, toYaml } from '../yaml-text.js';

/** The kubeconfig user: the node's managed identity through an exec credential plugin. */
export const KUBECONFIG_USER = 'flexnode-node-identity';
export const EXEC_API_VERSION = 'client.authentication.k8s.io/v1beta1';

/**
 * The kubelet's kubeconfig as a plain object: the cluster's server and CA only, and a user whose credential is an
 * exec plugin (NodeIdentity.execCredential) returning an Entra ID token for the AKS server application. No secret is
 * in it; it is still written 0600.
 */
export function kubeconfigObject(clusterName: string, server: string, caPem: string, identity: NodeIdentity): Record<string, unknown> {
  const exec = identity.execCredential(AKS_SERVER_APP_ID);
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [
      {
        name: KUBECONFIG_USER,
        user: {
          exec: {
            apiVersion: EXEC_API_VERSION,
            command: exec.command,
            args: exec.args,
            env: Object.entries(exec.env ?? {}).map(([name, value]) => ({ name, value })),
            interactiveMode: 'Never',
            provideClusterInfo: false,
          },
        },
      },
    ],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: KUBECONFIG_USER } }],
    'current-context': clusterName,
  };
}

export async function renderKubeconfig(...args: Parameters<typeof kubeconfigObject>): Promise<string> {
  return renderKubeconfigOf('kube.cluster-credentials', ...args);
}

/** The same kubeconfig, written by another step (kube-proxy's own copy). */
export async function renderKubeconfigOf(step: string, ...args: Parameters<typeof kubeconfigObject>): Promise<string> {
  return `# Written by flexnode (step ${step}): the cluster's server and CA, and the node identity.\n${await toYaml(kubeconfigObject(...args))}`;
}

/** Server and CA of a kubeconfig flexnode wrote (for the kubelet step's API calls). */
export async function readKubeconfig(text: string): Promise<{ server: string; caPem: string } | undefined> {
  try {
    const doc = (await fromYaml(text)) as { clusters?: { cluster?: { server?: string; 'certificate-authority-data'?: string } }[] };
    const cluster = doc?.clusters?.[0]?.cluster;
    if (!cluster?.server || !cluster['certificate-authority-data']) return undefined;
    return { server: cluster.server, caPem: Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8') };
  } catch {
    return undefined;
  }
}
