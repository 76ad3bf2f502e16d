// Area 6: concurrency. Two bootstraps at once: the second is refused by the lock (exit 3) naming the holder's pid,
// and so is an unbootstrap; the first finishes normally. A run killed with SIGKILL mid-run leaves a stale lock: the
// next run detects it, takes it over (and says so in the log) and converges to the uninterrupted run's tree.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Reference } from './crash.js';
import { Checks, diffTrees, excerpt, LOG_DIR, rowOf, SANDBOX_ONLY, Sandbox, seconds, type Row } from './lib.js';

const LOCK = '/run/flexnode/flexnode.lock';

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(20);
  }
  return cond();
}

function lockPid(sb: Sandbox): number | undefined {
  try {
    return (JSON.parse(readFileSync(sb.path(LOCK), 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

export async function concurrencyArea(config: Record<string, unknown>, ref: Reference): Promise<Row[]> {
  // Two at once.
  const both = new Checks('two bootstraps at once');
  const sb = await Sandbox.create('lock-two', config);
  const first = sb.spawn(['bootstrap', '--only', SANDBOX_ONLY]);
  both.ok(await waitFor(() => lockPid(sb) !== undefined, 30_000), 'the first run never took the lock');
  const holder = lockPid(sb);
  both.ok(holder === first.child.pid, `the lock names pid ${holder}, the first run is ${first.child.pid}`);
  const [second, un] = await Promise.all([sb.run(['bootstrap', '--only', SANDBOX_ONLY]), sb.run(['unbootstrap'])]);
  for (const [what, r] of [
    ['second bootstrap', second],
    ['concurrent unbootstrap', un],
  ] as const) {
    both.ok(r.code === 3, `${what} exited ${r.code} (expected 3): ${excerpt(r)}`);
    both.ok(r.stderr.includes(`pid ${first.child.pid}`), `${what} does not name the holder's pid ${first.child.pid}: ${excerpt(r)}`);
  }
  const done = await first.done;
  both.ok(done.code === 0, `the first run exited ${done.code}: ${excerpt(done)}`);
  both.ok(!existsSync(sb.path(LOCK)), 'the lock is still there after the run');
  const tree = await sb.snapshot('converge');
  both.ok(JSON.stringify(tree) === JSON.stringify(ref.tree), `the first run did not converge: ${diffTrees(ref.tree, tree).join(', ')}`);
  await sb.dispose();

  // Stale lock: kill -9 from outside, mid-run (while the artifacts stream in).
  const stale = new Checks('stale lock of a run killed with SIGKILL');
  const sb2 = await Sandbox.create('lock-stale', config);
  const victim = sb2.spawn(['bootstrap', '--only', SANDBOX_ONLY]);
  stale.ok(await waitFor(() => existsSync(sb2.path('/var/lib/flexnode/cache')) && lockPid(sb2) !== undefined, 30_000), 'the run never got to its downloads');
  await sleep(300);
  victim.child.kill('SIGKILL');
  const killed = await victim.done;
  stale.ok(killed.signal === 'SIGKILL', `the victim was not killed (exit ${killed.code}): it finished too fast`);
  stale.ok(lockPid(sb2) === victim.child.pid, 'no stale lock was left by the killed run');
  const again = await sb2.run(['bootstrap', '--only', SANDBOX_ONLY]);
  stale.ok(again.code === 0, `the next run exited ${again.code}: ${excerpt(again)}`);
  const logs = existsSync(sb2.path(LOG_DIR))
    ? readdirSync(sb2.path(LOG_DIR))
        .map((f) => readFileSync(sb2.path(`${LOG_DIR}/${f}`), 'utf8'))
        .join('\n')
    : '';
  stale.ok(logs.includes('took over a stale lock') && logs.includes(`pid ${victim.child.pid}`), 'the takeover is not logged with the dead pid');
  const tree2 = await sb2.snapshot('converge');
  stale.ok(JSON.stringify(tree2) === JSON.stringify(ref.tree), `did not converge after the takeover: ${diffTrees(ref.tree, tree2).join(', ')}`);
  stale.ok(sb2.leftovers().length === 0, `temp files left: ${sb2.leftovers().join(', ')}`);
  await sb2.dispose();

  return [
    rowOf('lock', 'second run refused (exit 3, holder pid named), first converges', [both]),
    rowOf('lock', 'stale lock of a kill -9 detected and taken over', [stale], `takeover run ${seconds(again.ms)}`),
  ];
}
