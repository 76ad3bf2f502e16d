import type { ArtifactsHook } from './artifacts.js';
import type { FlexnodeConfig } from './config.js';

/** The state a step's `check` reports. */
export type CheckStatus = 'ok' | 'missing' | 'drifted';

/** What `check` found. `reason` tells a person what is missing or differs. */
export type CheckResult =
  | { status: 'ok'; detail?: string }
  | { status: 'missing' | 'drifted'; reason: string };

/** The machine is as the step wants it. */
export function ok(detail?: string): CheckResult {
  return detail === undefined ? { status: 'ok' } : { status: 'ok', detail };
}

/** The step's work has not been done (e.g. a file or a unit is absent). */
export function missing(reason: string): CheckResult {
  return { status: 'missing', reason };
}

/** The step's work was done but the machine no longer matches (e.g. a file was edited, a service stopped). */
export function drifted(reason: string): CheckResult {
  return { status: 'drifted', reason };
}

/** The three operations of a step, created by the step's factory with its injected dependencies. */
export interface StepInstance {
  /** Read-only: never changes the machine. */
  check(): Promise<CheckResult>;
  /** Idempotent; called only when check is not ok, and check must be ok afterwards. */
  install(): Promise<void>;
  /** Undoes what install did (also after a partial install), usually with `host.changes.revert()`. */
  uninstall(): Promise<void>;
}

/** A step: one unit of work with its place in the graph and the factory that builds it. */
export interface StepDefinition<Deps extends unknown[] = any[]> {
  /** Unique across all plugins, dotted: `containerd.service`. */
  readonly id: string;
  /** One line shown in progress output and plans. */
  readonly title: string;
  /** Capabilities this step provides; another plugin may provide the same one instead (the config decides). */
  readonly provides?: readonly string[];
  /** Step ids or capabilities that must be installed first (and uninstalled after this step). */
  readonly after?: readonly string[];
  /**
   * A preflight step runs before every step that is not one: its check gates the run (machine requirements,
   * permissions), so a failing preflight stops a bootstrap before anything is changed.
   */
  readonly preflight?: boolean;
  /** Tokens resolved and passed to `create`, in order (`Tokens.Host`, `Tokens.Config`, capability tokens). */
  readonly inject?: readonly symbol[];
  /**
   * Whether the step applies to this config; a string is the reason it does not (shown by `flexnode steps`).
   * Default: always applies.
   */
  readonly when?: (config: FlexnodeConfig) => true | string;
  /** What the step downloads for a config and architecture, so `flexnode mirror sync` can mirror it. */
  readonly artifacts?: ArtifactsHook;
  /** Builds the step's operations from the injected dependencies. */
  readonly create: (...deps: Deps) => StepInstance;
}

/**
 * Declare a step. Returns the definition unchanged, frozen; the function exists for type inference and so
 * that the SDK can check the shape early.
 */
export function defineStep<Deps extends unknown[]>(definition: StepDefinition<Deps>): StepDefinition<Deps> {
  if (!/^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$/.test(definition.id)) {
    throw new TypeError(`step id "${definition.id}" must be dotted lowercase words, e.g. "containerd.service"`);
  }
  if (typeof definition.create !== 'function') {
    throw new TypeError(`step "${definition.id}" has no create function`);
  }
  return Object.freeze({ ...definition });
}
