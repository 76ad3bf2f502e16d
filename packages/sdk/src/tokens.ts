import type { FlexnodeConfig } from './config.js';
import type { Host } from './host.js';
import type { Logger } from './logger.js';

/** The command a step runs under, and its options (what `uninstall` cannot get from the config). */
export interface RunContext {
  /** `bootstrap`, `plan`, `status`, `unbootstrap`, `upgrade`, `agent`, ... */
  readonly command: string;
  /** `--force`: go on past what would stop the command (unbootstrap: a drain that cannot finish). */
  readonly force: boolean;
}

/**
 * A typed injection token: a `Symbol.for` symbol that also carries, for the compiler only, the type of the value
 * it resolves to. Symbols from `Symbol.for` compare equal across the duplicate copies of this SDK that
 * user-installed plugins carry in their own node_modules, so tokens cross the plugin boundary; the type does not
 * need to.
 */
export type Token<T> = symbol & { readonly __flexnodeResolvesTo?: T };

/** The type a token resolves to. */
export type TokenType<K> = K extends Token<infer T> ? T : never;

/** A token for `key` (a `Symbol.for` key: the same key gives the same token in every copy of the SDK). */
export function token<T>(key: string): Token<T> {
  return Symbol.for(key) as Token<T>;
}

/** The tokens core always provides. */
export const Tokens = {
  /** The {@link Host} scoped to the step being created: every change it makes is journaled for that step. */
  Host: token<Host>('flexnode.host'),
  /** The validated {@link FlexnodeConfig}. */
  Config: token<FlexnodeConfig>('flexnode.config'),
  /** A {@link Logger} whose lines carry the step id and have secrets redacted. */
  Logger: token<Logger>('flexnode.logger'),
  /** The {@link RunContext} of this run. */
  Run: token<RunContext>('flexnode.run'),
} as const;
