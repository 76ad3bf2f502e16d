import { ExitCode, FlexnodeError } from '@flexnode/sdk';
import type { GraphNode, StepGraph } from './order.js';

/**
 * The part of a graph a run is restricted to (`--only`): the named steps — by step id, capability or plugin
 * name — and everything they depend on, in the original order. A preflight step that names what it is for
 * (`preflightFor`) stays only when one of those runs. An unknown name is an error listing the steps.
 */
export function selectSteps<T extends GraphNode & { plugin?: string; preflightFor?: readonly string[] }>(
  graph: StepGraph<T>,
  names: readonly string[],
): StepGraph<T> {
  const wanted = new Set<string>();
  for (const name of names) {
    const matches = graph.order.filter((n) => n.id === name || n.plugin === name || (n.provides ?? []).includes(name));
    if (matches.length === 0) {
      throw new FlexnodeError('UNKNOWN_STEP', `--only ${name}: no step, capability or plugin of that name; steps: ${graph.order.map((n) => n.id).join(', ')}`, {
        exitCode: ExitCode.Usage,
      });
    }
    for (const m of matches) wanted.add(m.id);
  }
  const named = new Set(wanted);
  const stack = [...wanted];
  while (stack.length > 0) {
    for (const dep of graph.dependencies.get(stack.pop()!) ?? []) {
      if (!wanted.has(dep)) {
        wanted.add(dep);
        stack.push(dep);
      }
    }
  }
  // Named by --only, or gating a step that runs.
  const selected = graph.order.filter((n) => wanted.has(n.id) && !n.preflightFor);
  const needed = (n: T) =>
    !n.preflightFor || named.has(n.id) || selected.some((m) => n.preflightFor!.includes(m.id) || (m.provides ?? []).some((p) => n.preflightFor!.includes(p)));
  for (const n of graph.order) if (wanted.has(n.id) && !needed(n)) wanted.delete(n.id);
  return {
    order: graph.order.filter((n) => wanted.has(n.id)),
    dependencies: new Map([...graph.dependencies].filter(([id]) => wanted.has(id)).map(([id, deps]) => [id, deps.filter((d) => wanted.has(d))])),
  };
}
