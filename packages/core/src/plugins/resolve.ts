import { FlexnodeError, ExitCode, type AnyServiceDefinition, type AnyStepDefinition, type FlexnodeConfig } from '@flexnode/sdk';
import { providesOf, serviceCapability } from './normalize.js';
import type { LoadedPlugin, PluginProblem } from './types.js';

/** A step chosen to run, with the plugin it comes from. */
export interface ResolvedStep {
  definition: AnyStepDefinition;
  plugin: LoadedPlugin;
}

/** A step that will not run, and why (another provider chosen, or not applicable to this config). */
export interface SkippedStep extends ResolvedStep {
  reason: string;
}

/** Who provides a capability and why. */
export interface CapabilityChoice {
  capability: string;
  provider: string;
  reason: 'chosen in the config' | 'installed plugin over bundled' | 'only provider';
  candidates: string[];
}

export interface Resolution {
  steps: ResolvedStep[];
  skipped: SkippedStep[];
  services: { definition: AnyServiceDefinition; plugin: LoadedPlugin }[];
  capabilities: CapabilityChoice[];
  problems: PluginProblem[];
  /** Deprecated forms the chosen plugins still use (they run; they will not for long). */
  warnings: { plugin: string; message: string }[];
}

const rank = { bundled: 0, user: 1, linked: 1 } as const;

function capabilitiesOf(plugin: LoadedPlugin): Set<string> {
  const caps = new Set<string>();
  for (const step of plugin.definition.steps) for (const c of providesOf(step)) caps.add(c);
  for (const service of plugin.definition.services ?? []) caps.add(serviceCapability(service));
  return caps;
}

/** Drop plugins that reuse a step id already taken (bundled plugins keep theirs). */
function dropDuplicates(plugins: readonly LoadedPlugin[], problems: PluginProblem[]): LoadedPlugin[] {
  const owner = new Map<string, string>();
  const kept: LoadedPlugin[] = [];
  for (const plugin of [...plugins].sort((a, b) => rank[a.kind] - rank[b.kind])) {
    const clash = plugin.definition.steps.find((s) => owner.has(s.id));
    if (clash) {
      problems.push({ plugin: plugin.name, root: plugin.root, reason: `its step id "${clash.id}" is already declared by ${owner.get(clash.id)}` });
      continue;
    }
    for (const s of plugin.definition.steps) owner.set(s.id, plugin.name);
    kept.push(plugin);
  }
  return kept;
}

/** Pick the provider of one capability per shared/DESIGN.md: config choice, else a user plugin over bundled. */
function choose(capability: string, candidates: LoadedPlugin[], config?: FlexnodeConfig): CapabilityChoice {
  const names = candidates.map((c) => c.name);
  const wanted = config?.plugins?.[capability];
  if (wanted) {
    if (!names.includes(wanted)) {
      throw new FlexnodeError(
        'CAPABILITY_UNKNOWN_PROVIDER',
        `plugins.${capability} is "${wanted}", which does not provide "${capability}" or is not installed; providers: ${names.join(', ')}`,
        { exitCode: ExitCode.Usage, hint: `flexnode plugins install ${wanted}, or choose one of the providers` },
      );
    }
    return { capability, provider: wanted, reason: 'chosen in the config', candidates: names };
  }
  if (candidates.length === 1) return { capability, provider: names[0]!, reason: 'only provider', candidates: names };
  const installed = candidates.filter((c) => c.kind !== 'bundled');
  if (installed.length === 1) return { capability, provider: installed[0]!.name, reason: 'installed plugin over bundled', candidates: names };
  throw new FlexnodeError(
    'CAPABILITY_CONFLICT',
    `capability "${capability}" is provided by ${names.join(' and ')}; choose one with "plugins": {"${capability}": "<name>"} in the config`,
    { exitCode: ExitCode.Usage },
  );
}

/**
 * Decide which steps and services run: one provider per capability, steps of the losing providers left out,
 * and steps whose `when` rejects this config skipped with its reason. Without a config (`flexnode steps`
 * before one exists), `when` is not evaluated.
 */
export function resolvePlugins(all: readonly LoadedPlugin[], config?: FlexnodeConfig): Resolution {
  const problems: PluginProblem[] = [];
  const plugins = dropDuplicates(all, problems);
  const providers = new Map<string, LoadedPlugin[]>();
  for (const plugin of plugins) {
    for (const cap of capabilitiesOf(plugin)) providers.set(cap, [...(providers.get(cap) ?? []), plugin]);
  }
  const capabilities = [...providers].map(([cap, candidates]) => choose(cap, candidates, config));
  const winner = new Map(capabilities.map((c) => [c.capability, c.provider]));
  const loses = (plugin: LoadedPlugin, provides: readonly string[] = []) =>
    provides.find((cap) => winner.get(cap) !== plugin.name);

  const steps: ResolvedStep[] = [];
  const skipped: SkippedStep[] = [];
  for (const plugin of plugins) {
    for (const definition of plugin.definition.steps) {
      const lost = loses(plugin, providesOf(definition));
      const applies = config && definition.when ? definition.when(config) : true;
      if (lost) skipped.push({ definition, plugin, reason: `"${lost}" is provided by ${winner.get(lost)}` });
      else if (applies !== true) skipped.push({ definition, plugin, reason: applies });
      else steps.push({ definition, plugin });
    }
  }
  const services = plugins.flatMap((plugin) =>
    (plugin.definition.services ?? [])
      .filter((s) => winner.get(serviceCapability(s)) === plugin.name)
      .map((definition) => ({ definition, plugin })),
  );
  const warnings = plugins.flatMap((p) => (p.warnings ?? []).map((message) => ({ plugin: p.name, message })));
  return { steps, skipped, services, capabilities, problems, warnings };
}
