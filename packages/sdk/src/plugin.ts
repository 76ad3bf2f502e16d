import type { StepDefinition } from './step.js';

/**
 * A service a plugin offers to other plugins' steps, registered under `capabilityToken(capability)`
 * (e.g. the Arc identity's token source). Core constructs it lazily, once per run.
 */
export interface ServiceDefinition<T = unknown, Deps extends unknown[] = any[]> {
  readonly capability: string;
  readonly inject?: readonly symbol[];
  readonly create: (...deps: Deps) => T;
}

/** A flexnode plugin: the object its package's `flexnode.plugin` entry exports as default. */
export interface PluginDefinition {
  /** The npm package name, e.g. `@flexnode/plugin-containerd`. */
  readonly name: string;
  /** The SDK {@link API_VERSION} the plugin was built against. */
  readonly apiVersion: number;
  readonly steps: readonly StepDefinition[];
  readonly services?: readonly ServiceDefinition[];
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
