/**
 * Azure-facing services plugins share through capabilities, typed structurally so the SDK stays free of
 * Azure packages. `credential` has the shape of @azure/core-auth's TokenCredential and can be passed to any
 * Azure SDK client.
 */

/** A bearer token and when it expires (ms since the epoch). */
export interface AccessToken {
  token: string;
  expiresOnTimestamp: number;
}

/** The TokenCredential shape of @azure/core-auth. */
export interface TokenCredentialLike {
  getToken(scopes: string | string[], options?: unknown): Promise<AccessToken | null>;
}

/**
 * The operator's Azure access for bootstrap-time ARM calls (capability `azure-credential`): service principal,
 * else Azure CLI login, else device code on a terminal. Provided by plugin-arc.
 */
export interface AzureContext {
  credential: TokenCredentialLike;
  subscriptionId: string;
  tenantId: string;
  /** ARM endpoint of the configured cloud (or `azure.endpoints.resourceManager`), no trailing slash. */
  resourceManagerEndpoint: string;
  /** The scope ARM tokens are requested for, e.g. `https://management.azure.com/.default`. */
  armScope: string;
  /** Options to pass to every ARM client constructor (endpoint, credentialScopes, retries). */
  clientOptions: Record<string, unknown>;
}

/**
 * The node's own identity (capability `arc-identity`): the Arc machine's managed identity through the local
 * Hybrid IMDS. Provided by plugin-arc, consumed by plugin-kube for the kubelet.
 */
export interface NodeIdentity {
  /** A token for `scope` (e.g. `6dae42f8-4368-4678-94ff-3960e28e3630/.default` for AKS). */
  getToken(scope: string): Promise<AccessToken>;
  /** The object id of the identity, once the machine is registered. */
  principalId(): Promise<string | undefined>;
  /**
   * How another process (the kubelet's client-go exec credential plugin) obtains a token for `resource`:
   * the command and arguments to put in a kubeconfig's `users[].user.exec`.
   */
  execCredential(resource: string): { command: string; args: string[]; env?: Record<string, string> };
}
