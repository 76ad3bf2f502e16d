import { fromYaml, toYaml } from '../yaml-text.js';

/**
 * The kubelet's `--bootstrap-kubeconfig`: the cluster's server and CA, and the bootstrap token as the user. It holds
 * a credential: written 0600 and never logged. The kubelet uses it only while it has no valid client certificate.
 */
export async function renderBootstrapKubeconfig(clusterName: string, server: string, caPem: string, token: string): Promise<string> {
  const user = 'kubelet-bootstrap';
  return `# Written by flexnode (step kube.node-bootstrap): the kubelet's bootstrap credential (TLS bootstrapping).\n${await toYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user } }],
    'current-context': clusterName,
  })}`;
}

/** The token of a bootstrap kubeconfig flexnode wrote, if it is one. */
export async function bootstrapKubeconfigToken(text: string): Promise<string | undefined> {
  try {
    const token = ((await fromYaml(text)) as { users?: { user?: { token?: unknown } }[] })?.users?.[0]?.user?.token;
    return typeof token === 'string' ? token : undefined;
  } catch {
    return undefined;
  }
}
