import { expect } from 'chai';
import { runInOrder } from './scheduler.js';

describe('runtime/scheduler', () => {
  it('runs in dependency order with bounded concurrency, and nothing after a dependency failed', async () => {
    const started: string[] = [];
    const result = await runInOrder(
      ['a', 'b', 'c', 'd'],
      new Map([
        ['c', ['b']],
        ['d', ['a']],
      ]),
      async (id) => {
        started.push(id);
        return id !== 'b';
      },
    );
    expect(started).to.include.members(['a', 'b']);
    expect(started).not.to.include('c');
    expect(result.failed).to.equal(true);
    expect(result.notRun).to.include('c');
  });

  it('an abort from the event loop lands between tasks that never wait on it (a signal during synchronous checks)', async () => {
    const abort = new AbortController();
    const started: string[] = [];
    const order = ['s1', 's2', 's3', 's4'];
    const result = await runInOrder(
      order,
      new Map(order.slice(1).map((id, i) => [id, [order[i]!]])),
      async (id) => {
        started.push(id);
        // As a SIGTERM's handler: queued on the event loop while the task finishes without waiting on it.
        if (id === 's1') setImmediate(() => abort.abort());
        return true;
      },
      { concurrency: 1, signal: abort.signal },
    );
    expect(started).to.deep.equal(['s1']);
    expect(result.notRun).to.deep.equal(['s2', 's3', 's4']);
  });
});
