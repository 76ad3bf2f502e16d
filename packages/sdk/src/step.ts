import type { ArtifactsHook } from './artifacts.js';
import type { FlexnodeConfig } from './config.js';
import type { CapabilityRef } from './capability.js';
import type { Token, TokenType } from './tokens.js';

/** The state a step's `check` reports. */
export type CheckStatus = 'ok' | 'missing' | 'drifted';

/** What `check` found. `reason` tells a person what is missing or differs. */
export type CheckResult = { status: 'ok'; detail?: string } | { status: 'missing' | 'drifted'; reason: string };

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

/** What a step or service injects: a name for each typed token, e.g. `{ host: Tokens.Host, runtime: ContainerRuntime }`. */
export type InjectMap = { readonly [name: string]: Token<unknown> };

/** The values `create` receives for an {@link InjectMap}: the same names, each with its token's type. */
export type Injected<I extends InjectMap> = { readonly [K in keyof I]: TokenType<I[K]> };

/** What every step declares besides its dependencies. */
interface StepBase {
  /** Unique across all plugins, dotted: `containerd.service`. */
  readonly id: string;
  /** One line shown in progress output and plans. */
  readonly title: string;
  /**
   * Capabilities this step is part of. When another plugin is chosen for one of them, this step does not run
   * (and what it installed earlier is undone), so every step of a provider names its capability.
   */
  readonly provides?: readonly CapabilityRef[];
  /** Step ids or capabilities that must be installed first (and uninstalled after this step). */
  readonly after?: readonly (CapabilityRef | string)[];
  /**
   * A preflight step runs before every step that is not one: its check gates the run (machine requirements,
   * permissions), so a failing preflight stops a bootstrap before anything is changed. `{ for: [...] }`: one that
   * only matters when one of these steps or capabilities runs; a run restricted (`--only`) to others leaves it out.
   */
  readonly preflight?: boolean | { readonly for: readonly (CapabilityRef | string)[] };
  /**
   * Whether the step applies to this config; a string is the reason it does not (shown by `flexnode steps`).
   * Default: always applies.
   */
  readonly when?: (config: FlexnodeConfig) => true | string;
  /** What the step downloads for a config and architecture, so `flexnode mirror sync` can mirror it. */
  readonly artifacts?: ArtifactsHook;
}

/** A step: one unit of work with its place in the graph and the factory that builds it. */
export interface StepDefinition<I extends InjectMap = InjectMap> extends StepBase {
  /** The tokens resolved for `create`, by name (`Tokens.Host`, `Tokens.Config`, capabilities). */
  readonly inject?: I;
  /** Builds the step's operations from the injected dependencies. */
  create(deps: Injected<I>): StepInstance;
}

/**
 * A step in the form of plugin API version 1: `inject` a token array and `create` taking them positionally.
 * @deprecated use an object for `inject` ({@link StepDefinition}); core still runs this form, with a warning, for
 * one more minor version.
 */
export interface LegacyStepDefinition extends StepBase {
  readonly inject?: readonly symbol[];
  create(...deps: any[]): StepInstance;
}

/** Any step a plugin may list. */
export type AnyStepDefinition = StepDefinition<any> | LegacyStepDefinition;

const STEP_ID = /^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$/;

/**
 * Declare a step. Returns the definition frozen; the function exists so the compiler checks `create` against
 * `inject` (names and types), and so the SDK can check the shape early.
 */
export function defineStep<I extends InjectMap = {}>(definition: StepDefinition<I>): StepDefinition<I>;
/** @deprecated the array form of `inject`: use an object of tokens. */
export function defineStep(definition: LegacyStepDefinition): LegacyStepDefinition;
export function defineStep(definition: AnyStepDefinition): AnyStepDefinition {
  if (!STEP_ID.test(definition.id)) {
    throw new TypeError(`step id "${definition.id}" must be dotted lowercase words, e.g. "containerd.service"`);
  }
  if (typeof definition.create !== 'function') throw new TypeError(`step "${definition.id}" has no create function`);
  checkInject(`step "${definition.id}"`, definition.inject);
  return Object.freeze({ ...definition });
}

/** `inject` is an array of symbols (legacy) or an object whose values are symbols. */
export function checkInject(what: string, inject: unknown): void {
  if (inject === undefined) return;
  const values = Array.isArray(inject) ? inject : typeof inject === 'object' && inject !== null ? Object.values(inject) : undefined;
  if (!values || values.some((t) => typeof t !== 'symbol')) {
    throw new TypeError(`${what}: inject must be an object of tokens, e.g. { host: Tokens.Host }`);
  }
}

/** True for the deprecated positional form of `inject`. */
export function isLegacyInject(inject: unknown): inject is readonly symbol[] {
  return Array.isArray(inject);
}

/**
 * Call a step's or service's `create` with its dependencies, whichever form its `inject` has: core does this with
 * tsyringe as the resolver, the test harness with a map. `resolve` gets each token and returns its value.
 */
export function instantiate<T>(
  definition: { readonly inject?: InjectMap | readonly symbol[]; create(...deps: any[]): T },
  resolve: (token: symbol, name: string) => unknown,
): T {
  const inject = definition.inject;
  if (inject === undefined) return definition.create({});
  if (isLegacyInject(inject)) return definition.create(...inject.map((t, i) => resolve(t, String(i))));
  const deps: Record<string, unknown> = {};
  for (const [name, t] of Object.entries(inject)) deps[name] = resolve(t, name);
  return definition.create(deps);
}
