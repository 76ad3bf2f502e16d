import type { OperatorKube } from '../cluster/operator-kube.js';
import { BOOTSTRAP_BINDINGS, ensureBinding, releaseBinding, type EnsureOutcome } from './bindings.js';
import { newBootstrapToken, tokenSecret, tokenSecretName, tokenString } from './token.js';

/** What revoking a token needs: journaled, so never the secret. */
export interface TokenRef {
  secretName: string;
  namespace: string;
  id: string;
}

/** A bootstrap token issued for one node. */
export interface IssuedToken {
  token: string;
  expiresAt: Date;
  ref: TokenRef;
}

/**
 * Where a node's bootstrap token comes from. flexnode makes its own (`SelfMadeTokens`: a token Secret and kubeadm's
 * bindings, created with the operator's Kubernetes credential). AKS's own flex-node bootstrap data (the agent pool
 * action `listBootstrapData` with the "Azure Kubernetes Service Flex Node Agent Role") would be another source whose
 * cluster side AKS manages: `prepare` and `release` would do nothing and `issue` would call that action. The pinned
 * @azure/arm-containerservice 25.3.0 has neither the action nor a FlexNodes agent pool type, so it is not offered.
 */
export interface BootstrapTokenSource {
  readonly description: string;
  /** What the cluster needs for this source's tokens (RBAC bindings); `onEnsured` journals each before it changes. */
  prepare(
    nodeName: string,
    onEnsured: (binding: string, outcome: EnsureOutcome) => Promise<void>,
    beforeChange: (binding: string) => Promise<void>,
  ): Promise<void>;
  /** A new token for the node; `beforeCreate` journals its ref first (write-ahead). */
  issue(nodeName: string, expiresAt: Date, beforeCreate: (ref: TokenRef) => Promise<void>): Promise<IssuedToken>;
  revoke(ref: TokenRef): Promise<void>;
  /** Undo `prepare` for this node (a shared binding goes when its last node does). Returns the bindings deleted. */
  release(nodeName: string, bindings: readonly string[]): Promise<string[]>;
}

/** Tokens flexnode makes itself, as `kubeadm token create` does, with the operator's Kubernetes credential. */
export class SelfMadeTokens implements BootstrapTokenSource {
  readonly description = 'a bootstrap token Secret made by flexnode';

  constructor(private readonly kube: OperatorKube) {}

  async prepare(
    nodeName: string,
    onEnsured: (binding: string, outcome: EnsureOutcome) => Promise<void>,
    beforeChange: (binding: string) => Promise<void>,
  ): Promise<void> {
    for (const spec of BOOTSTRAP_BINDINGS) {
      await beforeChange(spec.name);
      await onEnsured(spec.name, await ensureBinding(this.kube, spec, nodeName));
    }
  }

  async issue(nodeName: string, expiresAt: Date, beforeCreate: (ref: TokenRef) => Promise<void>): Promise<IssuedToken> {
    const token = await newBootstrapToken();
    const ref = { secretName: tokenSecretName(token.id), namespace: 'kube-system', id: token.id };
    await beforeCreate(ref);
    await this.kube.call(
      'POST',
      `/api/v1/namespaces/kube-system/secrets`,
      `create the bootstrap token Secret ${ref.secretName} in kube-system`,
      { json: tokenSecret(token, nodeName, expiresAt) },
      [201],
    );
    return { token: tokenString(token), expiresAt, ref };
  }

  async revoke(ref: TokenRef): Promise<void> {
    await this.kube.call(
      'DELETE',
      `/api/v1/namespaces/${ref.namespace}/secrets/${ref.secretName}`,
      `delete the bootstrap token Secret ${ref.secretName}`,
      undefined,
      [200, 202, 404],
    );
  }

  async release(nodeName: string, bindings: readonly string[]): Promise<string[]> {
    const deleted: string[] = [];
    for (const name of bindings) if (await releaseBinding(this.kube, name, nodeName)) deleted.push(name);
    return deleted;
  }
}
