import { FlexnodeError, isFlexnodeError, underRoot, type AzureContext, type FlexnodeConfig, type Host, type NodeIdentity } from '@flexnode/sdk';
import { kubeletAuth } from '../auth.js';
import { AKS_SCOPE, type ClusterFacts } from '../cluster/cluster.js';
import { readKubeconfig } from '../cluster/kubeconfig.js';
import { OPERATOR_REQUIRED, operatorKubeToken, OperatorKube } from '../cluster/operator-kube.js';
import { httpsNodesApi, uidPrecondition, type NodesApi } from '../network/nodes.js';
import { kubePaths, type KubePaths } from '../paths.js';
import { messageOf } from '../util.js';
import type { KubeClient, KubeCredential, NodeApiOptions } from './api.js';
import { CLIENT_PAIR, readNodeCertificate } from './node-credential.js';

/** The kubelet's node identity has no client certificate yet (TLS bootstrapping has not finished). */
export const NO_NODE_CERTIFICATE = 'KUBE_NO_NODE_CERTIFICATE';

/** The Nodes API as one identity, and the server it talks to (for messages). */
export interface NodesClient {
  api: NodesApi;
  server: string;
}

/**
 * Where and as whom flexnode calls the API server as the node: in arc-msi mode with the Arc identity's token (server
 * and CA from flexnode's kubeconfig), in bootstrap-token mode with the kubelet's own client certificate (server and
 * CA from the bootstrap kubeconfig). Neither needs the operator's credential: status and the agent's checks work
 * without it. Undefined while there is no kubeconfig (the node has not joined).
 *
 * `beforeCertificate`: in bootstrap-token mode the certificate exists only once the kubelet ran; what must read
 * the Node before that (the pod range the network is set up with, during bootstrap) acts as the operator until then.
 */
export async function nodeConnection(
  host: Host,
  config: FlexnodeConfig,
  identity: NodeIdentity,
  beforeCertificate?: { azure: AzureContext | undefined; purpose: string },
): Promise<NodeApiOptions | undefined> {
  const paths = kubePaths(config);
  const bootstrap = kubeletAuth(config) === 'bootstrap-token';
  const text = await host.files.readText(bootstrap ? paths.bootstrapKubeconfig : paths.kubeconfig);
  const kc = text === undefined ? undefined : await readKubeconfig(text);
  if (!kc) return undefined;
  const credential = bootstrap
    ? async (): Promise<KubeCredential> => {
        const cert = await readNodeCertificate(host, paths.certDir);
        if (cert) return { certPem: cert.certPem, keyPem: cert.keyPem };
        if (beforeCertificate) return { token: await operatorKubeToken(beforeCertificate.azure, beforeCertificate.purpose) };
        throw new FlexnodeError(NO_NODE_CERTIFICATE, `the kubelet has no client certificate in ${paths.certDir} yet (TLS bootstrapping)`);
      }
    : async () => ({ token: (await identity.getToken(AKS_SCOPE)).token });
  return { server: kc.server, caPem: kc.caPem, credential };
}

/** flexnode's calls about its own Node, as the node (see {@link nodeConnection}). */
export async function nodeClient(
  host: Host,
  config: FlexnodeConfig,
  identity: NodeIdentity,
  makeApi: (o: NodeApiOptions) => NodesApi = httpsNodesApi,
  beforeCertificate?: { azure: AzureContext | undefined; purpose: string },
): Promise<NodesClient | undefined> {
  const connection = await nodeConnection(host, config, identity, beforeCertificate);
  return connection && { server: connection.server, api: makeApi(connection) };
}

export interface NodeDeletion {
  host: Host;
  name: string;
  /** Delete only the Node with this uid (the one flexnode registered): a precondition, so a newer Node stays. */
  uid?: string;
  /** What deletes it (`unbootstrap of kube.kubelet`): says what the operator's credential is needed for. */
  purpose: string;
  /** The node's own client (arc-msi: RBAC Admin or a custom role with nodes/delete may delete it). */
  nodeClient?: NodesClient;
  facts?: ClusterFacts;
  azure?: AzureContext;
  operatorClient?: (o: NodeApiOptions) => KubeClient;
}

const uidOf = (node: Record<string, unknown>) => (node.metadata as { uid?: string } | undefined)?.uid;

/** What became of the Node: deleted, already gone, replaced by another Node of that name, or kept (warned). */
export type NodeDeletionOutcome = 'deleted' | 'gone' | 'replaced' | 'kept';

/**
 * Delete a Node flexnode registered or ran, once nothing re-registers it. `system:node` may not delete Nodes
 * (NodeRules has no delete), and neither may flexnode's node role: the node's own identity looks first (a Node
 * already gone, or another one by now, needs nobody else) and tries (it may, with RBAC Admin), then the operator
 * deletes it. A refusal is a warning with the fix, not a failed unbootstrap; a missing operator credential fails
 * the uninstall (the step's record stays, so the next unbootstrap, given the credential, deletes it).
 */
export async function deleteNodeObject(d: NodeDeletion): Promise<NodeDeletionOutcome> {
  const { host, name, uid } = d;
  const fix = `delete it with \`kubectl delete node ${name}\``;
  const say = (outcome: NodeDeletionOutcome, message: string, level: 'info' | 'warn' = 'info') => (host.log[level](message), outcome);
  const gone = () => say('gone', `Node ${name} was already gone from the cluster`);
  const replaced = () => say('replaced', `Node ${name} is not the one flexnode registered any more: left alone`);
  const kept = (why: string) => say('kept', `${why}; ${fix}`, 'warn');
  if (d.nodeClient) {
    try {
      const got = await d.nodeClient.api.get(name);
      if (got.status === 404) return gone();
      if (got.status === 200 && uid && uidOf(got.body) !== uid) return replaced();
      const answer = await d.nodeClient.api.delete(name, uid);
      if (answer.status === 200 || answer.status === 202) return say('deleted', `deleted Node ${name} from the cluster`);
      if (answer.status === 404) return gone();
      if (answer.status === 409 && uid) return replaced();
      if (answer.status !== 401 && answer.status !== 403) {
        return kept(`deleting Node ${name} answered HTTP ${answer.status}: ${String(answer.body.message ?? '')}`);
      }
      host.log.info(`the node identity may not delete Node ${name} (HTTP ${answer.status}): deleting it as the operator`);
    } catch (error) {
      host.log.info(`deleting Node ${name} as the node failed (${messageOf(error)}): deleting it as the operator`);
    }
  }
  if (!d.facts) return kept(`could not delete Node ${name}: the cluster's facts are not recorded`);
  try {
    const kube = await OperatorKube.connect(d.azure, d.facts, `${d.purpose} (deleting the Node ${name} from the cluster)`, d.operatorClient);
    const answer = await kube.call('DELETE', `/api/v1/nodes/${encodeURIComponent(name)}`, `delete the Node ${name}`, uid ? uidPrecondition(uid) : undefined, [
      200,
      202,
      404,
      ...(uid ? [409] : []),
    ]);
    if (answer.status === 404) return gone();
    if (answer.status === 409) return replaced();
    return say('deleted', `deleted Node ${name} from the cluster (as ${kube.who})`);
  } catch (error) {
    if (isFlexnodeError(error) && error.code === OPERATOR_REQUIRED) throw error;
    const hint = isFlexnodeError(error) && error.hint ? ` (${error.hint})` : '';
    return kept(`could not delete Node ${name}: ${messageOf(error)}${hint}`);
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
