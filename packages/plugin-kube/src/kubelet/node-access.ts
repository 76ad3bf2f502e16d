import { FlexnodeError, isFlexnodeError, underRoot, type AzureContext, type FlexnodeConfig, type Host, type NodeIdentity } from '@flexnode/sdk';
import { kubeletAuth } from '../auth.js';
import { AKS_SCOPE, type ClusterFacts } from '../cluster/cluster.js';
import { readKubeconfig } from '../cluster/kubeconfig.js';
import { OPERATOR_REQUIRED, OperatorKube } from '../cluster/operator-kube.js';
import type { KubePaths } from '../paths.js';
import { messageOf } from '../util.js';
import type { KubeClient, NodeApi, NodeApiOptions } from './api.js';
import { CLIENT_PAIR, readNodeCertificate } from './node-credential.js';

/** The kubelet's node identity has no client certificate yet (TLS bootstrapping has not finished). */
export const NO_NODE_CERTIFICATE = 'KUBE_NO_NODE_CERTIFICATE';

/**
 * flexnode's read of its own Node, as the node: in arc-msi mode with the Arc identity's token (server and CA from
 * flexnode's kubeconfig), in bootstrap-token mode with the kubelet's own client certificate (server and CA from the
 * bootstrap kubeconfig). Neither needs the operator's credential: status and the agent's checks work without it.
 */
export async function nodeApiOf(host: Host, config: FlexnodeConfig, paths: KubePaths, identity: NodeIdentity, makeApi: (o: NodeApiOptions) => NodeApi): Promise<{ api: NodeApi; server: string } | undefined> {
  const bootstrap = kubeletAuth(config) === 'bootstrap-token';
  const text = await host.files.readText(bootstrap ? paths.bootstrapKubeconfig : paths.kubeconfig);
  const kc = text === undefined ? undefined : await readKubeconfig(text);
  if (!kc) return undefined;
  const credential = bootstrap
    ? async () => {
        const cert = await readNodeCertificate(host, paths.certDir);
        if (!cert) throw new FlexnodeError(NO_NODE_CERTIFICATE, `the kubelet has no client certificate in ${paths.certDir} yet (TLS bootstrapping)`);
        return { certPem: cert.certPem, keyPem: cert.keyPem };
      }
    : async () => ({ token: (await identity.getToken(AKS_SCOPE)).token });
  return { server: kc.server, api: makeApi({ server: kc.server, caPem: kc.caPem, credential }) };
}

export interface NodeDeletion {
  host: Host;
  name: string;
  /** The node's own client (arc-msi: RBAC Admin or a custom role with nodes/delete may delete it). */
  nodeClient?: { api: NodeApi; server: string };
  facts?: ClusterFacts;
  azure?: AzureContext;
  operatorClient?: (o: NodeApiOptions) => KubeClient;
}

/**
 * Delete the Node object after the kubelet stopped. `system:node` may not delete Nodes (NodeRules has no delete),
 * and neither may flexnode's node role: the node's own identity is tried first (it may, with RBAC Admin), then the
 * operator's. A refusal is a warning with the fix, not a failed unbootstrap; a missing operator credential fails
 * the uninstall (the Node record stays, so the next unbootstrap, given the credential, deletes it).
 */
export async function deleteNodeObject(d: NodeDeletion): Promise<void> {
  const { host, name } = d;
  const fix = `delete it with \`kubectl delete node ${name}\``;
  if (d.nodeClient) {
    try {
      const answer = await d.nodeClient.api.deleteNode(name);
      if (answer.status === 200 || answer.status === 202) return host.log.info(`deleted Node ${name} from the cluster`);
      if (answer.status === 404) return host.log.info(`Node ${name} was already gone from the cluster`);
      if (answer.status !== 401 && answer.status !== 403) {
        return host.log.warn(`deleting Node ${name} answered HTTP ${answer.status}: ${String(answer.body.message ?? '')}; ${fix}`);
      }
      host.log.info(`the node identity may not delete Node ${name} (HTTP ${answer.status}): deleting it as the operator`);
    } catch (error) {
      host.log.info(`deleting Node ${name} as the node failed (${messageOf(error)}): deleting it as the operator`);
    }
  }
  if (!d.facts) return host.log.warn(`could not delete Node ${name}: the cluster's facts are not recorded; ${fix}`);
  try {
    const kube = await OperatorKube.connect(d.azure, d.facts, `unbootstrap of kube.kubelet (deleting the Node ${name} from the cluster)`, d.operatorClient);
    const answer = await kube.call('DELETE', `/api/v1/nodes/${encodeURIComponent(name)}`, `delete the Node ${name}`, undefined, [200, 202, 404]);
    host.log.info(answer.status === 404 ? `Node ${name} was already gone from the cluster` : `deleted Node ${name} from the cluster (as ${kube.who})`);
  } catch (error) {
    if (isFlexnodeError(error) && error.code === OPERATOR_REQUIRED) throw error;
    const hint = isFlexnodeError(error) && error.hint ? ` (${error.hint})` : '';
    host.log.warn(`could not delete Node ${name}: ${messageOf(error)}${hint}; ${fix}`);
  }
}

/**
 * bootstrap-token mode: the credentials the kubelet obtained through flexnode's bootstrap token (its kubeconfig and
 * the client certificate pairs `kubelet-client-<time>.pem`, `kubelet-client-current.pem`) go with the node: a
 * certificate of a removed node must not stay usable on the machine (the API server cannot revoke it; it stays valid
 * until it expires). They are the kubelet's files, not journaled copies: removed with `rm` (no backup of a private
 * key is ever made), only when flexnode's install recorded that they did not exist before.
 */
export async function removeKubeletCredentials(host: Host, paths: KubePaths): Promise<string[]> {
  const pairs = (await host.files.list(paths.certDir)).filter((f) => CLIENT_PAIR.test(f)).map((f) => `${paths.certDir}/${f}`);
  const present = [...((await host.files.stat(paths.kubeconfig)) ? [paths.kubeconfig] : []), ...pairs];
  if (present.length === 0) return [];
  await host.exec.run('rm', ['-f', '--', ...present.map((p) => underRoot(host.root, p))], {
    describe: `remove the kubelet's node credentials (${present.join(', ')})`,
  });
  return present;
}
