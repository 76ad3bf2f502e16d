/**
 * Run tasks in dependency order with bounded concurrency: a task starts once all its dependencies succeeded.
 * After a failure (or an abort) nothing new starts; running tasks finish. Returns the ids that never ran.
 */
export async function runInOrder(
  order: readonly string[],
  dependencies: ReadonlyMap<string, readonly string[]>,
  task: (id: string) => Promise<boolean>,
  options: { concurrency?: number; signal?: AbortSignal } = {},
): Promise<{ notRun: string[]; failed: boolean }> {
  const limit = Math.max(1, options.concurrency ?? 4);
  const done = new Set<string>();
  const started = new Set<string>();
  const running = new Map<string, Promise<void>>();
  let failed = false;
  const canStart = (id: string) => (dependencies.get(id) ?? []).every((d) => done.has(d));

  for (;;) {
    if (!failed && !options.signal?.aborted) {
      for (const id of order) {
        if (running.size >= limit) break;
        if (started.has(id) || !canStart(id)) continue;
        started.add(id);
        running.set(
          id,
          task(id).then(
            (ok) => {
              running.delete(id);
              if (ok) done.add(id);
              else failed = true;
            },
            () => {
              running.delete(id);
              failed = true;
            },
          ),
        );
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
    // A signal's handler runs only from the event loop, and steps whose work never waits on it (the Host reads
    // synchronously) can finish one after another inside one turn: a SIGTERM would then go unnoticed until the
    // run ended. One turn of the loop before starting what comes next lets an abort land first.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { notRun: order.filter((id) => !started.has(id)), failed };
}
