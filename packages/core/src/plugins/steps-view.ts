import type { FlexnodeConfig } from '@flexnode/sdk';
import { GraphCycleError, orderSteps, type StepGraph } from '../graph/index.js';
import type { ExecStep } from '../runtime/executor.js';
import { checkPluginChoices, pluginConfigWarnings } from './config-choices.js';
import { discoverPlugins } from './discover.js';
import { afterOf, preflightFor, providesOf } from './normalize.js';
import { resolvePlugins, type Resolution, type ResolvedStep } from './resolve.js';
import type { LoadedPlugin, PluginProblem, PluginSource } from './types.js';

/** A graph node of a resolved step. */
export interface GraphStep extends ExecStep {
  provides?: readonly string[];
  after?: readonly string[];
  /** A preflight step's `for` (see the SDK's `preflight`). */
  preflightFor?: readonly string[];
  resolved: ResolvedStep;
}

/** Plugins and steps as they resolve for a config (what `flexnode steps` shows). */
export interface StepsView {
  resolution: Resolution;
  graph: StepGraph<GraphStep>;
}

/**
 * Load plugins, pick providers and order the steps. Without a config, `when` conditions are not evaluated.
 * Any problem of one plugin (it does not load, declares an unknown API version, reuses a step id, conflicts with
 * another installed provider, needs something nothing provides, closes a dependency cycle) leaves that plugin
 * out, named with the reason and the fix, and the rest resolve without it: one broken plugin never stops the
 * others, nor `unbootstrap`.
 */
export async function resolveSteps(sources: readonly PluginSource[], config?: FlexnodeConfig): Promise<StepsView> {
  return resolveDiscovered(await discoverPlugins(sources), config);
}

/** {@link resolveSteps} for plugins already discovered (and those discovery left out). */
export function resolveDiscovered(discovered: { plugins: readonly LoadedPlugin[]; problems: readonly PluginProblem[] }, config?: FlexnodeConfig): StepsView {
  const { plugins, problems } = discovered;
  let kept: readonly LoadedPlugin[] = plugins;
  const leftOut: PluginProblem[] = [];
  // Leaving a plugin out can leave another one's dependency unmet (or change a capability's provider): repeat.
  for (;;) {
    const resolution = resolvePlugins(kept, config);
    const out = new Map<LoadedPlugin, PluginProblem>();
    for (const [plugin, needs] of unmetDependencies(resolution)) {
      out.set(plugin, {
        plugin: plugin.name,
        root: plugin.root,
        reason: `${needs.join('; ')}, which no step or plugin provides`,
        fix: `install the plugin that provides it, or remove this one: flexnode plugins uninstall ${plugin.name}`,
      });
    }
    let graph: StepGraph<GraphStep> | undefined;
    if (out.size === 0) {
      try {
        graph = orderSteps(graphNodes(resolution), inactiveNames(resolution));
      } catch (error) {
        if (!(error instanceof GraphCycleError)) throw error;
        for (const [plugin, problem] of cycleCulprits(error, resolution)) out.set(plugin, problem);
      }
    }
    if (graph) {
      const all = [...problems, ...leftOut, ...resolution.problems];
      resolution.problems = all;
      resolution.configIssues = checkPluginChoices(
        config,
        kept.filter((p) => !all.some((q) => q.plugin === p.name)),
        all,
      );
      // Installed plugins, those left out included: their sections are theirs.
      resolution.warnings.push(...pluginConfigWarnings(config, [...kept.map((p) => p.name), ...all.map((p) => p.plugin)]));
      return { resolution, graph };
    }
    leftOut.push(...resolution.problems, ...out.values());
    kept = kept.filter((p) => !out.has(p) && !resolution.problems.some((q) => q.plugin === p.name));
  }
}

/** The steps as graph nodes. Preflight steps gate the run: every other step comes after all of them. */
function graphNodes(resolution: Resolution): GraphStep[] {
  const preflight = resolution.steps.filter((r) => r.definition.preflight).map((r) => r.definition.id);
  return resolution.steps.map((r) => ({
    id: r.definition.id,
    title: r.definition.title,
    plugin: r.plugin.name,
    preflight: r.definition.preflight === true,
    provides: providesOf(r.definition),
    after: r.definition.preflight ? afterOf(r.definition) : [...preflight, ...afterOf(r.definition)],
    ...(preflightFor(r.definition) ? { preflightFor: preflightFor(r.definition) } : {}),
    resolved: r,
  }));
}

/**
 * The plugins to leave out for a dependency cycle: the installed (not bundled) ones whose steps are in it. A cycle
 * among bundled steps alone is flexnode's own bug and is thrown.
 */
function cycleCulprits(error: GraphCycleError, resolution: Resolution): Map<LoadedPlugin, PluginProblem> {
  const owners = new Map(resolution.steps.map((r) => [r.definition.id, r.plugin]));
  const culprits = new Map<LoadedPlugin, PluginProblem>();
  for (const id of error.cycle) {
    const plugin = owners.get(id);
    if (!plugin || plugin.kind === 'bundled' || culprits.has(plugin)) continue;
    culprits.set(plugin, {
      plugin: plugin.name,
      root: plugin.root,
      reason: `its steps close a dependency cycle: ${error.cycle.join(' → ')}`,
      fix: `update the plugin (one of these steps must not name the other in \`after\`), or remove it: flexnode plugins uninstall ${plugin.name}`,
    });
  }
  if (culprits.size === 0) throw error;
  return culprits;
}

/** Steps and capabilities that exist but do not run (another provider, or not applicable): depending on them is fine. */
function inactiveNames(resolution: Resolution): Set<string> {
  return new Set(resolution.skipped.flatMap((s) => [s.definition.id, ...providesOf(s.definition)]));
}

/** The plugins whose running steps name, in `after`, a step or capability that nothing declares. */
function unmetDependencies(resolution: Resolution): Map<LoadedPlugin, string[]> {
  const known = inactiveNames(resolution);
  for (const r of resolution.steps) for (const name of [r.definition.id, ...providesOf(r.definition)]) known.add(name);
  const unmet = new Map<LoadedPlugin, string[]>();
  for (const r of resolution.steps) {
    for (const name of afterOf(r.definition)) {
      if (!known.has(name)) unmet.set(r.plugin, [...(unmet.get(r.plugin) ?? []), `step ${r.definition.id} needs "${name}"`]);
    }
  }
  return unmet;
}
