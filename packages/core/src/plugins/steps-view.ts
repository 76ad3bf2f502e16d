import type { FlexnodeConfig } from '@flexnode/sdk';
import { orderSteps, type StepGraph } from '../graph/index.js';
import type { ExecStep } from '../runtime/executor.js';
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
 * A plugin whose steps need something nothing provides is left out, named with the reason, and the rest resolve
 * without it: one broken plugin never stops the others (nor `unbootstrap`).
 */
export async function resolveSteps(sources: readonly PluginSource[], config?: FlexnodeConfig): Promise<StepsView> {
  const { plugins, problems } = await discoverPlugins(sources);
  let kept: LoadedPlugin[] = plugins;
  const leftOut: PluginProblem[] = [];
  let resolution: Resolution;
  // Leaving a plugin out can leave another one's dependency unmet (or change a capability's provider): repeat.
  for (;;) {
    resolution = resolvePlugins(kept, config);
    const unmet = unmetDependencies(resolution);
    if (unmet.size === 0) break;
    for (const [plugin, needs] of unmet) {
      leftOut.push({
        plugin: plugin.name,
        root: plugin.root,
        reason: `${needs.join('; ')}, which no step or plugin provides`,
        fix: `install the plugin that provides it, or remove this one: flexnode plugins uninstall ${plugin.name}`,
      });
    }
    kept = kept.filter((p) => !unmet.has(p));
  }
  resolution.problems.unshift(...problems, ...leftOut);
  // Preflight steps gate the run: every other step comes after all of them.
  const preflight = resolution.steps.filter((r) => r.definition.preflight).map((r) => r.definition.id);
  const nodes: GraphStep[] = resolution.steps.map((r) => ({
    id: r.definition.id,
    title: r.definition.title,
    plugin: r.plugin.name,
    provides: providesOf(r.definition),
    after: r.definition.preflight ? afterOf(r.definition) : [...preflight, ...afterOf(r.definition)],
    ...(preflightFor(r.definition) ? { preflightFor: preflightFor(r.definition) } : {}),
    resolved: r,
  }));
  return { resolution, graph: orderSteps(nodes, inactiveNames(resolution)) };
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
