import type { FlexnodeConfig } from '@flexnode/sdk';
import { orderSteps, type StepGraph } from '../graph/index.js';
import type { ExecStep } from '../runtime/executor.js';
import { discoverPlugins } from './discover.js';
import { resolvePlugins, type Resolution, type ResolvedStep } from './resolve.js';
import type { PluginSource } from './types.js';

/** A graph node of a resolved step. */
export interface GraphStep extends ExecStep {
  provides?: readonly string[];
  after?: readonly string[];
  resolved: ResolvedStep;
}

/** Plugins and steps as they resolve for a config (what `flexnode steps` shows). */
export interface StepsView {
  resolution: Resolution;
  graph: StepGraph<GraphStep>;
}

/** Load plugins, pick providers and order the steps. Without a config, `when` conditions are not evaluated. */
export async function resolveSteps(sources: readonly PluginSource[], config?: FlexnodeConfig): Promise<StepsView> {
  const { plugins, problems } = await discoverPlugins(sources);
  const resolution = resolvePlugins(plugins, config);
  resolution.problems.unshift(...problems);
  // Preflight steps gate the run: every other step comes after all of them.
  const preflight = resolution.steps.filter((r) => r.definition.preflight).map((r) => r.definition.id);
  const nodes: GraphStep[] = resolution.steps.map((r) => ({
    id: r.definition.id,
    title: r.definition.title,
    plugin: r.plugin.name,
    provides: r.definition.provides,
    after: r.definition.preflight ? r.definition.after : [...preflight, ...(r.definition.after ?? [])],
    resolved: r,
  }));
  const inactive = new Set(resolution.skipped.flatMap((s) => [s.definition.id, ...(s.definition.provides ?? [])]));
  return { resolution, graph: orderSteps(nodes, inactive) };
}

