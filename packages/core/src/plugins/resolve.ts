import type { AnyServiceDefinition, AnyStepDefinition, ConfigIssue, FlexnodeConfig } from '@flexnode/sdk';
import { injectedCapabilities, providesOf, serviceCapability } from './normalize.js';
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
  reason: 'chosen in the config' | 'installed plugin over bundled' | 'only provider' | 'first of several bundled providers';
  candidates: string[];
}

export interface Resolution {
  steps: ResolvedStep[];
  skipped: SkippedStep[];
  services: { definition: AnyServiceDefinition; plugin: LoadedPlugin }[];
  capabilities: CapabilityChoice[];
  /** Plugins left out (broken, clashing, conflicting, needing what nothing provides), each with the reason and a fix. */
  problems: PluginProblem[];
  /** What is wrong with the config's `plugins` choices: `bootstrap` refuses them, `config validate` reports them. */
  configIssues: ConfigIssue[];
  /** Deprecated forms the chosen plugins still use (they run; they will not for long). */
  warnings: { plugin: string; message: string }[];
}

const rank = { bundled: 0, user: 1, linked: 1 } as const;

/** The capabilities a plugin's steps and services are part of. */
export function capabilitiesOf(plugin: LoadedPlugin): Set<string> {
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
      problems.push({
        plugin: plugin.name,
        root: plugin.root,
        reason: `its step id "${clash.id}" is already declared by ${owner.get(clash.id)}`,
        fix: `update or remove one of them: flexnode plugins uninstall ${plugin.name}`,
      });
      continue;
    }
    for (const s of plugin.definition.steps) owner.set(s.id, plugin.name);
    kept.push(plugin);
  }
  return kept;
}

function providersOf(plugins: readonly LoadedPlugin[]): Map<string, LoadedPlugin[]> {
  const providers = new Map<string, LoadedPlugin[]>();
  for (const plugin of plugins) {
    for (const cap of capabilitiesOf(plugin)) providers.set(cap, [...(providers.get(cap) ?? []), plugin]);
  }
  return providers;
}

/** The plugin the config names for a capability, when it is one of the candidates. */
const configured = (capability: string, candidates: readonly LoadedPlugin[], config?: FlexnodeConfig) => {
  const wanted = config?.plugins?.[capability];
  return candidates.find((c) => c.name === wanted);
};

/**
 * Two installed (not bundled) plugins provide the same capability and the config chooses neither: both are left
 * out, named, with the fix; the bundled provider (if any) keeps the capability until the config chooses.
 */
function dropConflicts(plugins: readonly LoadedPlugin[], problems: PluginProblem[], config?: FlexnodeConfig): LoadedPlugin[] {
  const out = new Set<LoadedPlugin>();
  for (const [capability, candidates] of providersOf(plugins)) {
    const installed = candidates.filter((c) => c.kind !== 'bundled');
    if (installed.length < 2 || configured(capability, candidates, config)) continue;
    for (const plugin of installed) {
      if (out.has(plugin)) continue;
      out.add(plugin);
      const others = installed.filter((p) => p !== plugin).map((p) => p.name);
      problems.push({
        plugin: plugin.name,
        root: plugin.root,
        reason: `it provides "${capability}", as ${others.join(' and ')} ${others.length > 1 ? 'do' : 'does'}, and the config chooses none of them`,
        fix: `choose one in the config: "plugins": {"${capability}": "${plugin.name}"}, or uninstall the others`,
      });
    }
  }
  return plugins.filter((p) => !out.has(p));
}

/** Pick the provider of one capability per shared/DESIGN.md: config choice, else a user plugin over bundled. */
function choose(capability: string, candidates: LoadedPlugin[], config?: FlexnodeConfig): CapabilityChoice {
  const names = candidates.map((c) => c.name);
  const chosen = configured(capability, candidates, config);
  if (chosen) return { capability, provider: chosen.name, reason: 'chosen in the config', candidates: names };
  if (candidates.length === 1) return { capability, provider: names[0]!, reason: 'only provider', candidates: names };
  // A config choice that is not a candidate is a config issue (see config-choices.ts); the default applies meanwhile.
  const installed = candidates.filter((c) => c.kind !== 'bundled');
  if (installed.length === 1) return { capability, provider: installed[0]!.name, reason: 'installed plugin over bundled', candidates: names };
  return { capability, provider: candidates[0]!.name, reason: 'first of several bundled providers', candidates: names };
}

const offersService = (plugin: LoadedPlugin, capability: string) => (plugin.definition.services ?? []).some((s) => serviceCapability(s) === capability);

/** A step's `when`, evaluated as plugin code: one that throws leaves its plugin out instead of stopping the run. */
function applies(step: AnyStepDefinition, config: FlexnodeConfig | undefined): true | string | { threw: string } {
  if (!config || !step.when) return true;
  try {
    return step.when(config);
  } catch (error) {
    return { threw: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Decide which steps and services run: one provider per capability, steps of the losing providers left out,
 * and steps whose `when` rejects this config skipped with its reason. Plugins that clash (a step id taken, two
 * installed providers the config does not choose between) or whose `when` throws are left out, with the reason
 * in `problems`; the others resolve without them. Without a config (`flexnode steps` before one exists), `when`
 * is not evaluated.
 */
export function resolvePlugins(all: readonly LoadedPlugin[], config?: FlexnodeConfig): Resolution {
  const problems: PluginProblem[] = [];
  let plugins = dropConflicts(dropDuplicates(all, problems), problems, config);
  for (;;) {
    const providers = providersOf(plugins);
    const capabilities = [...providers].map(([cap, candidates]) => choose(cap, candidates, config));
    const winner = new Map(capabilities.map((c) => [c.capability, c.provider]));
    const steps: ResolvedStep[] = [];
    const skipped: SkippedStep[] = [];
    const broken = new Map<LoadedPlugin, string>();
    // A capability whose service other plugins' steps inject (the container runtime's, the CNI's): a provider
    // without that service would win, and every step injecting it would fail to be created, blaming those steps'
    // plugins. When another provider offers the service, the one without it is left out and the other keeps the
    // capability.
    // (Steps this config skips by their `when` inject nothing.)
    const injected = new Set(
      plugins.flatMap((p) =>
        [...p.definition.steps.filter((d) => applies(d, config) === true), ...(p.definition.services ?? [])].flatMap(injectedCapabilities),
      ),
    );
    for (const [capability, candidates] of providers) {
      if (!injected.has(capability)) continue;
      const chosen = candidates.find((c) => c.name === winner.get(capability));
      const withService = candidates.find((c) => offersService(c, capability));
      if (chosen && withService && !offersService(chosen, capability)) {
        broken.set(chosen, `provides "${capability}" but offers no "${capability}" service, which other plugins' steps inject (as ${withService.name} does)`);
      }
    }
    for (const plugin of plugins) {
      for (const definition of plugin.definition.steps) {
        const lost = providesOf(definition).find((cap) => winner.get(cap) !== plugin.name);
        const verdict = lost ? true : applies(definition, config);
        if (lost) skipped.push({ definition, plugin, reason: `"${lost}" is provided by ${winner.get(lost)}` });
        else if (typeof verdict === 'object') broken.set(plugin, `its step ${definition.id}: when() threw: ${verdict.threw}`);
        else if (verdict !== true) skipped.push({ definition, plugin, reason: verdict });
        else steps.push({ definition, plugin });
      }
    }
    if (broken.size > 0) {
      for (const [plugin, reason] of broken) {
        problems.push({ plugin: plugin.name, root: plugin.root, reason, fix: `update the plugin, or remove it: flexnode plugins uninstall ${plugin.name}` });
      }
      plugins = plugins.filter((p) => !broken.has(p));
      continue;
    }
    const services = plugins.flatMap((plugin) =>
      (plugin.definition.services ?? []).filter((s) => winner.get(serviceCapability(s)) === plugin.name).map((definition) => ({ definition, plugin })),
    );
    const warnings = plugins.flatMap((p) => (p.warnings ?? []).map((message) => ({ plugin: p.name, message })));
    return { steps, skipped, services, capabilities, problems, configIssues: [], warnings };
  }
}
