import { API_VERSION, defineStep, definePlugin, ok, type StepDefinition } from '@flexnode/sdk';
import type { LoadedPlugin, PluginKind } from './types.js';

/** A step that does nothing, for resolution tests. */
export const noopStep = (id: string, extra: Partial<StepDefinition> = {}) =>
  defineStep({ id, title: id, ...extra, create: () => ({ check: async () => ok(), install: async () => {}, uninstall: async () => {} }) });

/** A loaded plugin built in memory. */
export function loaded(name: string, kind: PluginKind, steps: StepDefinition[]): LoadedPlugin {
  return { name, version: '1.0.0', root: `/plugins/${name}`, kind, definition: definePlugin({ name, apiVersion: API_VERSION, steps }) };
}
