// Timing helpers for benches: commands are measured interleaved with their baseline in the same run, so
// machine noise hits both alike, and figures are reported as ratios of medians.
import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';

/** Wall time of one process run, in ms (spawnSync: no event-loop noise of our own). */
export function timeCommand(argv, options = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: options.stdio ?? 'ignore', env: options.env ?? process.env, cwd: options.cwd });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0 && !options.allowFailure) throw new Error(`${argv.join(' ')} exited ${r.status}`);
  return ms;
}

export const stats = (samples) => {
  const s = [...samples].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1], n: s.length };
};

/** Run each case `runs` times, round-robin (baseline and subjects alternate), after one warm-up each. */
export function interleaved(cases, runs) {
  const samples = Object.fromEntries(cases.map((c) => [c.name, []]));
  for (const c of cases) c.run();
  for (let i = 0; i < runs; i++) for (const c of cases) samples[c.name].push(c.run());
  return Object.fromEntries(cases.map((c) => [c.name, stats(samples[c.name])]));
}

const f = (ms) => `${ms.toFixed(1)}`.padStart(8);

/**
 * Keep a figure for bench/run.mjs's summary and the README table (bench/table.mjs): appended as a JSON line to
 * $BENCH_RESULTS when run.mjs runs the bench. `row`: { bench, figure, value (text), baseline? (text), ratio?
 * (text), target? (text), met? (boolean) }.
 */
export function record(row) {
  if (process.env.BENCH_RESULTS) appendFileSync(process.env.BENCH_RESULTS, `${JSON.stringify(row)}\n`);
}

export const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);

/**
 * Print rows `name min median max ratio target verdict`; returns whether every target was met. Each row is
 * also recorded (see `record`) under `bench` (default: the title), with its baseline's name and median.
 */
export function report(title, rows, bench = title) {
  console.log(`\n${title}`);
  console.log(`${'figure'.padEnd(36)}${'min ms'.padStart(8)}${'median'.padStart(8)}${'max ms'.padStart(8)}   ratio  target  result`);
  let allMet = true;
  for (const r of rows) {
    const ratio = r.baseline ? r.stats.median / r.baseline.median : undefined;
    const met = r.target !== undefined ? ratio !== undefined && ratio <= r.target : r.targetMs !== undefined ? r.stats.median <= r.targetMs : true;
    allMet &&= met;
    const ratioText = ratio === undefined ? '      -' : `${ratio.toFixed(2)}x`.padStart(7);
    const target = r.target !== undefined ? `<=${r.target}x` : r.targetMs !== undefined ? `<=${r.targetMs}ms` : '-';
    console.log(
      `${r.name.padEnd(36)}${f(r.stats.min)}${f(r.stats.median)}${f(r.stats.max)} ${ratioText}  ${target.padStart(6)}  ${r.target === undefined && r.targetMs === undefined ? '' : met ? 'met' : 'NOT met'}`,
    );
    if (r.baselineName || r.target !== undefined || r.targetMs !== undefined) {
      record({
        bench,
        figure: r.name,
        value: fmtMs(r.stats.median),
        baseline: r.baseline ? `${r.baselineName ?? 'baseline'} ${fmtMs(r.baseline.median)}` : undefined,
        ratio: ratio === undefined ? undefined : `${ratio.toFixed(2)}x`,
        target: target === '-' ? undefined : target.replace('<=', '<= '),
        met: r.target === undefined && r.targetMs === undefined ? undefined : met,
      });
    }
  }
  return allMet;
}
