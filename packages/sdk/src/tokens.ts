/**
 * Injection tokens. They are `Symbol.for` symbols so that they compare equal across the duplicate copies
 * of this SDK that user-installed plugins carry in their own node_modules.
 */
export const Tokens = {
  /** The {@link Host} scoped to the step being created: every change it makes is journaled for that step. */
  Host: Symbol.for('flexnode.host'),
  /** The validated {@link FlexnodeConfig}. */
  Config: Symbol.for('flexnode.config'),
  /** A {@link Logger} whose lines carry the step id and have secrets redacted. */
  Logger: Symbol.for('flexnode.logger'),
} as const;

/**
 * The token under which the provider of a capability's service is registered, e.g.
 * `capabilityToken('arc-identity')` gives the node's token source to plugin-kube without an import of plugin-arc.
 */
export function capabilityToken(capability: string): symbol {
  return Symbol.for(`flexnode.capability.${capability}`);
}

/** The capabilities the bundled plugins provide and consume. Third parties may name others. */
export type WellKnownCapability =
  | 'container-runtime'
  | 'cni'
  | 'arc-identity'
  | 'azure-credential'
  | 'cluster-credentials'
  | 'kubelet';
