import type { Capability, CapabilityRef } from './capability.js';
import { checkInject, type AnyStepDefinition, type InjectMap, type Injected } from './step.js';

/**
 * A service a plugin offers to other plugins' steps: the typed service of a capability it provides (the
 * container runtime's CRI endpoint, the Arc identity's token source). Core constructs it lazily, once per run,
 * and only for the chosen provider of the capability.
 */
export interface ServiceDefinition<T = unknown, I extends InjectMap = InjectMap> {
  readonly capability: Capability<T>;
  readonly inject?: I;
  create(deps: Injected<I>): NoInfer<T>;
}

/**
 * A service in the form of plugin API version 1 (capability by name, positional `inject`).
 * @deprecated use {@link defineService}.
 */
export interface LegacyServiceDefinition {
  readonly capability: string;
  readonly inject?: readonly symbol[];
  create(...deps: any[]): unknown;
}

/** Any service a plugin may list. */
export type AnyServiceDefinition = ServiceDefinition<any, any> | LegacyServiceDefinition;

/** Declare a service; the compiler checks that `create` returns the capability's type from the injected values. */
export function defineService<T, I extends InjectMap = {}>(definition: ServiceDefinition<T, I>): ServiceDefinition<T, I> {
  checkInject(`service of ${String(definition.capability.description)}`, definition.inject);
  if (typeof definition.create !== 'function') throw new TypeError(`service of ${String(definition.capability.description)} has no create function`);
  return Object.freeze({ ...definition });
}

/** A flexnode plugin: the object its package's `flexnode.plugin` entry exports as default. */
export interface PluginDefinition {
  /** The npm package name, e.g. `@flexnode/plugin-containerd`. */
  readonly name: string;
  /** The SDK {@link API_VERSION} the plugin was built against. */
  readonly apiVersion: number;
  readonly steps: readonly AnyStepDefinition[];
  readonly services?: readonly AnyServiceDefinition[];
}

/** Declare a plugin; checks that step ids are unique within it. */
export function definePlugin(plugin: PluginDefinition): PluginDefinition {
  const seen = new Set<string>();
  for (const step of plugin.steps) {
    if (seen.has(step.id)) throw new TypeError(`plugin ${plugin.name} declares step "${step.id}" twice`);
    seen.add(step.id);
  }
  return Object.freeze({ ...plugin, steps: Object.freeze([...plugin.steps]) });
}

export type { CapabilityRef };
