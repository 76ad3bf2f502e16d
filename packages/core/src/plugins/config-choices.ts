import type { ConfigIssue, FlexnodeConfig } from '@flexnode/sdk';
import { closest } from '../config/suggest.js';
import { capabilitiesOf } from './resolve.js';
import type { LoadedPlugin, PluginProblem } from './types.js';

const didYouMean = (word: string, candidates: readonly string[]) => {
  const near = closest(word, candidates);
  return near ? `; did you mean "${near}"?` : '';
};

/**
 * Check the config's `plugins` map (capability → plugin) against the plugins there are: a key no plugin provides
 * (a misspelt capability would silently choose nothing), a plugin that is not installed, left out, or does not
 * provide that capability. Each issue names the field, with a "did you mean".
 */
export function checkPluginChoices(config: FlexnodeConfig | undefined, plugins: readonly LoadedPlugin[], leftOut: readonly PluginProblem[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const providers = new Map<string, string[]>();
  for (const plugin of plugins) for (const cap of capabilitiesOf(plugin)) providers.set(cap, [...(providers.get(cap) ?? []), plugin.name]);
  const capabilities = [...providers.keys()].sort();
  const names = plugins.map((p) => p.name);
  for (const [capability, wanted] of Object.entries(config?.plugins ?? {})) {
    const path = `plugins.${capability}`;
    const candidates = providers.get(capability);
    if (candidates?.includes(wanted)) continue;
    const broken = leftOut.find((p) => p.plugin === wanted);
    if (broken) issues.push({ path, message: `"${wanted}" is left out: ${broken.reason}` });
    else if (!candidates) {
      issues.push({
        path,
        message: `"${capability}" is not a capability any plugin provides${didYouMean(capability, capabilities)} (capabilities: ${capabilities.join(', ')})`,
      });
    } else if (names.includes(wanted)) issues.push({ path, message: `"${wanted}" does not provide "${capability}"; providers: ${candidates.join(', ')}` });
    else
      issues.push({
        path,
        message: `"${wanted}" is not an installed plugin${didYouMean(wanted, candidates)} (providers of "${capability}": ${candidates.join(', ')})`,
      });
  }
  return issues;
}

/**
 * `pluginConfig` sections named for no plugin there is (a misspelt `@flexnode/plugin-kub`): their settings would
 * be read by nobody, in silence. A warning, not an error: one config may serve machines with other plugins.
 */
export function pluginConfigWarnings(config: FlexnodeConfig | undefined, names: readonly string[]): { plugin: string; message: string }[] {
  return Object.keys(config?.pluginConfig ?? {})
    .filter((name) => !names.includes(name))
    .map((name) => ({
      plugin: name,
      message: `pluginConfig["${name}"] is for no installed plugin, so its settings are not read${didYouMean(name, names)}`,
    }));
}
