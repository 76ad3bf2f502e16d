import { ExitCode, FlexnodeError } from '@flexnode/sdk';
import { MinHeap } from './min-heap.js';

/** Steps that depend on each other in a cycle; `cycle` is the path, ending where it starts. */
export class GraphCycleError extends FlexnodeError {
  constructor(readonly cycle: readonly string[]) {
    super('GRAPH_CYCLE', `the steps depend on each other in a cycle: ${cycle.join(' → ')}`, {
      exitCode: ExitCode.Usage,
      hint: 'one of these steps must not name the other in `after`',
    });
  }
}

/** What the graph needs of a step. */
export interface GraphNode {
  id: string;
  provides?: readonly string[];
  after?: readonly string[];
}

/** The steps in install order, and each step's direct dependencies (step ids). */
export interface StepGraph<T extends GraphNode> {
  order: T[];
  dependencies: Map<string, string[]>;
}

/**
 * Order steps so that every step comes after what it names in `after` (step ids or capabilities), keeping the
 * given order among independent steps. `inactive` names steps and capabilities that exist but do not run
 * (another provider, or not applicable): a dependency on them is dropped, not an error.
 * Throws on an unknown dependency or a cycle, naming the steps. Linear in steps + edges.
 */
export function orderSteps<T extends GraphNode>(nodes: readonly T[], inactive: ReadonlySet<string> = new Set()): StepGraph<T> {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const providers = new Map<string, string[]>();
  for (const n of nodes) for (const cap of n.provides ?? []) providers.set(cap, [...(providers.get(cap) ?? []), n.id]);

  const dependencies = new Map<string, string[]>();
  const missing: string[] = [];
  for (const n of nodes) {
    const deps = new Set<string>();
    for (const name of n.after ?? []) {
      if (byId.has(name)) {
        deps.add(name);
      } else if (providers.has(name)) {
        for (const p of providers.get(name)!) if (p !== n.id) deps.add(p);
      } else if (!inactive.has(name)) {
        missing.push(`${n.id} needs "${name}", which no step or plugin provides`);
      }
    }
    dependencies.set(n.id, [...deps]);
  }
  if (missing.length > 0) {
    throw new FlexnodeError('GRAPH_MISSING_DEPENDENCY', `missing dependencies:\n  ${missing.join('\n  ')}`, {
      exitCode: ExitCode.Usage,
      hint: 'install the plugin that provides it, or check the step ids in `after`',
    });
  }

  // Kahn's algorithm: stable and O((V + E) log V).
  const indegree = new Map(nodes.map((n) => [n.id, dependencies.get(n.id)!.length]));
  const dependents = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  for (const [id, deps] of dependencies) for (const d of deps) dependents.get(d)!.push(id);
  const position = new Map(nodes.map((n, i) => [n.id, i]));
  // Ready steps leave in declaration order: a heap of positions keeps that O(log n).
  const ready = new MinHeap();
  nodes.forEach((n, i) => indegree.get(n.id) === 0 && ready.push(i));
  const order: T[] = [];
  while (ready.size > 0) {
    const node = nodes[ready.pop()!]!;
    order.push(node);
    for (const next of dependents.get(node.id)!) {
      const left = indegree.get(next)! - 1;
      indegree.set(next, left);
      if (left === 0) ready.push(position.get(next)!);
    }
  }
  if (order.length < nodes.length) {
    const cycle = findCycle(
      nodes.filter((n) => indegree.get(n.id)! > 0).map((n) => n.id),
      dependencies,
    );
    throw new GraphCycleError(cycle);
  }
  return { order, dependencies };
}

/** One cycle among the stuck steps, as a path that ends where it starts. */
function findCycle(stuck: string[], dependencies: Map<string, string[]>): string[] {
  const inStuck = new Set(stuck);
  let current = stuck[0]!;
  const seen = new Map<string, number>();
  const path: string[] = [];
  while (!seen.has(current)) {
    seen.set(current, path.length);
    path.push(current);
    current = dependencies.get(current)!.find((d) => inStuck.has(d))!;
  }
  return [...path.slice(seen.get(current)), current];
}
