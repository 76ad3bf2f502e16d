// Area "signals" (issue 17): SIGTERM during each step of a bootstrap (delivered inside the step by core's test-only
// crash hook with FLEXNODE_CRASH_SIGNAL, and once from outside at a random moment), and during each step's check
// in a dry run: the run stops after the step in progress, says which step it interrupted, exits 1, and the next
// run converges to the tree of an uninterrupted run.
import { INSTALLED_STEPS, type Reference } from './crash.js';
import { Checks, diffTrees, excerpt, normalJournal, pool, rowOf, SANDBOX_ONLY, Sandbox, seconds, type Row } from './lib.js';

const bootstrap = (sb: Sandbox, env: Record<string, string> = {}) => sb.run(['bootstrap', '--only', SANDBOX_ONLY], { env });

/** The first run's stderr names the signal and the step; exit 1; then the re-run converges to the reference. */
async function interruptedThenConverges(
  c: Checks,
  sb: Sandbox,
  ref: Reference,
  first: { code: number | null; stdout: string; stderr: string },
  step: RegExp,
): Promise<void> {
  c.ok(first.code === 1, `exit ${first.code} (expected 1): ${excerpt(first)}`);
  c.ok(
    /interrupted by SIGTERM during/.test(first.stderr) && step.test(first.stderr),
    `the message does not name the interrupted step (${step}): ${excerpt(first)}`,
  );
  c.ok(!/\n\s+at .+:\d+:\d+\)?\n/.test(first.stderr), 'a stack trace was printed');
  const again = await bootstrap(sb);
  c.ok(again.code === 0, `the next bootstrap exited ${again.code}: ${excerpt(again)}`);
  const tree = await sb.snapshot('converge');
  c.ok(JSON.stringify(tree) === JSON.stringify(ref.tree), `the tree differs from an uninterrupted run: ${diffTrees(ref.tree, tree).join(', ')}`);
  c.ok(normalJournal(await sb.journal()) === ref.journal, 'the journal differs from an uninterrupted run');
  c.ok(sb.leftovers().length === 0, `temp files left: ${sb.leftovers().join(', ')}`);
}

export async function signalsArea(config: Record<string, unknown>, ref: Reference, parallel: number): Promise<Row[]> {
  // SIGTERM inside each step, before its install runs (the step is in progress: it finishes, nothing new starts).
  const during = await pool(INSTALLED_STEPS, parallel, async (id) => {
    const c = new Checks(`SIGTERM during ${id}`);
    const sb = await Sandbox.create(`sigterm-${id}`, config);
    const first = await bootstrap(sb, { FLEXNODE_CRASH_AT: `step:${id}:before-install`, FLEXNODE_CRASH_SIGNAL: 'SIGTERM' });
    await interruptedThenConverges(c, sb, ref, first, new RegExp(`step [^\\n]*${id.replace(/\./g, '\\.')}`));
    await sb.dispose();
    return c;
  });

  // A dry run: SIGTERM during each step's check; exit 1 naming it, and nothing on the machine changed.
  const dry = await pool(['kube.preflight', ...INSTALLED_STEPS.slice(0, 4)], parallel, async (id) => {
    const c = new Checks(`SIGTERM during ${id} (--dry-run)`);
    const sb = await Sandbox.create(`sigterm-dry-${id}`, config);
    const before = await sb.snapshot('restore');
    const run = await sb.run(['bootstrap', '--dry-run', '--only', SANDBOX_ONLY], {
      env: { FLEXNODE_CRASH_AT: `step:${id}:check`, FLEXNODE_CRASH_SIGNAL: 'SIGTERM' },
    });
    c.ok(run.code === 1, `exit ${run.code} (expected 1): ${excerpt(run)}`);
    // A check in a dry run can finish before the signal's handler runs (the signal is delivered asynchronously):
    // the step named is then the one just finished ("between steps (after step ID)"), or the one the run had
    // moved on to, the next in the (sequential) plan order.
    const m = /plan interrupted by SIGTERM during (?:step (\S+)|the run, between steps \(after step (\S+)\))/.exec(run.stderr);
    const named = m?.[1] ?? m?.[2];
    const order = [...run.stdout.matchAll(/^[^\s\w] (\S+)/gm)].map((m) => m[1]!);
    const next = order[order.indexOf(id) + 1];
    c.ok(
      named === id || (named !== undefined && named === next),
      `the message names ${named ?? 'no step'}, not ${id} (or the step after it, ${next}): ${excerpt(run)}`,
    );
    const after = await sb.snapshot('restore');
    c.ok(JSON.stringify(after) === JSON.stringify(before), `a dry run changed the root: ${diffTrees(before, after).join(', ')}`);
    await sb.dispose();
    return c;
  });

  // From outside, as systemd or a person would: SIGTERM once the run has started a few steps.
  const outside = new Checks('SIGTERM from outside, mid-run');
  const sb = await Sandbox.create('sigterm-outside', config);
  const { child, done } = sb.spawn(['bootstrap', '--only', SANDBOX_ONLY]);
  let seen = '';
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 20_000);
    child.stdout!.on('data', (b: Buffer) => {
      seen += b.toString('utf8');
      if ((seen.match(/\n/g) ?? []).length >= 2) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.kill('SIGTERM');
  const first = await done;
  await interruptedThenConverges(outside, sb, ref, first, /(step \S+|between steps)/);
  await sb.dispose();

  const slowest = Math.max(0, ...[first].map((r) => ('ms' in r ? (r as { ms: number }).ms : 0)));
  return [
    rowOf('signals', `SIGTERM during each of ${INSTALLED_STEPS.length} steps: step named, exit 1, the next run converges`, during),
    rowOf('signals', 'SIGTERM during a dry run: step named, exit 1, nothing changed', dry),
    rowOf('signals', 'SIGTERM from outside mid-run: named, exit 1, converges', [outside], seconds(slowest)),
  ];
}
