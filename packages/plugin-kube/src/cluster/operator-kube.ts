import { FlexnodeError, isFlexnodeError, type AzureContext } from '@flexnode/sdk';
import { httpsKubeClient, isUnreachable, type ApiAnswer, type KubeClient, type NodeApiOptions, type RequestBody } from '../kubelet/api.js';
import { nodesApi, type NodesApi } from '../network/nodes.js';
import { messageOf } from '../util.js';
import { AKS_SCOPE, type ClusterFacts } from './cluster.js';

export const OPERATOR_REQUIRED = 'AZURE_OPERATOR_CREDENTIAL_REQUIRED';

/** The ARM role that lets the operator's identity do what flexnode does in the cluster (Azure RBAC through guard). */
export const OPERATOR_KUBE_ROLE = 'Azure Kubernetes Service RBAC Admin';

/** Who a JWT names (upn, else object id, else app id), for messages; the token is never verified or kept. */
export function tokenSubject(token: string): string {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    const who = claims.upn ?? claims.oid ?? claims.appid;
    return typeof who === 'string' ? who : 'the operator';
  } catch {
    return 'the operator';
  }
}

/**
 * The operator's Kubernetes credential: their own Entra token for the AKS server application, through the
 * `azure-credential` service (service principal, Azure CLI login or device code). guard authenticates it as the
 * operator (upn or object id), and Azure RBAC (or a Kubernetes RBAC binding of that name) authorizes it: every
 * change flexnode makes in the cluster is audited as the person or principal who ran it. The cluster's admin
 * credential (local accounts) is never used: it is a shared cluster-admin secret, and AKS lets clusters disable it.
 * A cluster without Entra ID integration has no way to authenticate the operator: refused, with the fix.
 */
export class OperatorKube {
  private constructor(
    private readonly client: KubeClient,
    readonly who: string,
    private readonly cluster: ClusterFacts,
  ) {}

  static async connect(
    azure: AzureContext | undefined,
    cluster: ClusterFacts,
    purpose: string,
    makeClient: (options: NodeApiOptions) => KubeClient = httpsKubeClient,
  ): Promise<OperatorKube> {
    if (!cluster.aad) {
      throw new FlexnodeError(
        'KUBE_OPERATOR_NO_ENTRA',
        `${purpose} acts in the cluster ${cluster.name} as the operator's Entra identity, and the cluster has no Microsoft Entra ID integration`,
        {
          hint: `enable it (az aks update -g <group> -n ${cluster.name} --enable-aad --enable-azure-rbac): flexnode never uses the cluster's admin credential`,
        },
      );
    }
    const token = await operatorKubeToken(azure, purpose);
    let current = token;
    const client = makeClient({
      server: cluster.server,
      caPem: cluster.caPem,
      credential: async () => ({ token: (current = await operatorKubeToken(azure, purpose)) }),
    });
    return new OperatorKube(client, tokenSubject(current), cluster);
  }

  /** The Nodes API as the operator, for what the node's identity may not do (answers are the caller's to judge). */
  nodes(): NodesApi {
    return nodesApi(this.client);
  }

  /**
   * One request; an answer outside `accept` becomes an error a person can act on (401/403: the identity and the
   * role to grant, with the API server's own reason, which names guard's denied dataAction).
   */
  async call(method: string, path: string, what: string, body?: RequestBody, accept: readonly number[] = [200, 201]): Promise<ApiAnswer> {
    let answer: ApiAnswer;
    try {
      answer = await this.client.call(method, path, body);
    } catch (error) {
      if (isFlexnodeError(error)) throw error;
      throw new FlexnodeError('KUBE_API_UNREACHABLE', `could not ${what}: the API server ${this.cluster.server} did not answer (${messageOf(error)})`, {
        hint: isUnreachable(error)
          ? 'check the route, DNS and firewall from this machine to the API server (a private cluster needs a VPN or peering)'
          : undefined,
      });
    }
    if (accept.includes(answer.status)) return answer;
    const reason = String(answer.body.message ?? '');
    if (answer.status === 401) {
      throw new FlexnodeError(
        'KUBE_OPERATOR_REJECTED',
        `the API server of ${this.cluster.name} rejected the Entra token of ${this.who} (to ${what}): ${reason || 'Unauthorized'}`,
        {
          hint: 'the token is for another tenant, or expired: sign in again (az login) or check azure.servicePrincipal',
        },
      );
    }
    if (answer.status === 403) {
      throw new FlexnodeError('KUBE_OPERATOR_FORBIDDEN', `${this.who} may not ${what} in the cluster ${this.cluster.name}: ${reason}`, {
        hint: `grant it "${OPERATOR_KUBE_ROLE}" on the cluster (az role assignment create --assignee <its object id> --role "${OPERATOR_KUBE_ROLE}" --scope ${this.cluster.resourceId}), or bind it with Kubernetes RBAC to what plugin-kube's README lists ("The operator's Kubernetes rights"); then re-run`,
      });
    }
    throw new FlexnodeError('KUBE_API_ERROR', `could not ${what}: HTTP ${answer.status} ${reason}`.trim());
  }
}

/** The operator's Entra token for the AKS server application; a missing credential names what needed it. */
export async function operatorKubeToken(azure: AzureContext | undefined, purpose: string): Promise<string> {
  const required = (detail: string, cause?: unknown) =>
    new FlexnodeError(OPERATOR_REQUIRED, `${purpose} needs the operator's Azure credential (an Entra token for the cluster), and ${detail}`, {
      hint: "set azure.servicePrincipal (the secret in AZURE_CLIENT_SECRET or clientSecretFile), or run `az login`; status, doctor and the agent's checks do not need it",
      cause,
    });
  if (!azure) throw required('no Azure credential service is loaded');
  try {
    const token = await azure.credential.getToken(AKS_SCOPE);
    if (!token?.token) throw required('the credential returned no token');
    return token.token;
  } catch (error) {
    if (isFlexnodeError(error) && error.code === OPERATOR_REQUIRED) throw error;
    if (isFlexnodeError(error) && error.code.startsWith('AZURE')) throw required(`it is not available: ${error.message}`, error);
    throw required(`getting a token failed: ${messageOf(error).split('\n')[0]}`, error);
  }
}
