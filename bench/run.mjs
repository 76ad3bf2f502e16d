#!/usr/bin/env node
// npm run bench: every figure of the performance issues, each measured against its baseline in the same run
// (these machines are noisy), printed as tables with min/median/max, the ratio and whether the target is met.
// Exits non-zero when any target is missed. The figures are kept in .cache/bench/last.jsonl; `--markdown`
// also prints them as the README's Performance table (bench/table.mjs renders any kept run).
//   npm run bench [-- --markdown] [-- --only cli-start.mjs,box-node.mjs]
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { nodeMajor } from './lib/other-node.mjs';
import { repo } from './lib/sandbox.mjs';
import { LAST_RESULTS, markdownTable, readResults } from './table.mjs';

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : undefined;
mkdirSync(dirname(LAST_RESULTS), { recursive: true });
rmSync(LAST_RESULTS, { force: true });

/** Run bench/`script` (under `runtime`, the node that runs the script itself, when given: the agent soak's agent). */
const bench = (script, env = {}, runtime = undefined) => {
  if (only && !only.includes(script)) return undefined;
  const node = runtime ?? process.execPath;
  const r = spawnSync(node, [join(repo, 'bench', script)], { stdio: 'inherit', env: { ...process.env, BENCH_RESULTS: LAST_RESULTS, ...env } });
  const other = env.BENCH_NODE ?? runtime;
  return {
    script: `${script}${other ? ` (node ${spawnSync(other, ['--version'], { encoding: 'utf8' }).stdout.trim()})` : ''}`,
    met: r.status === 0,
  };
};
/** The major of the Node.js the release tarballs embed (the root package.json's releaseNode). */
const releaseMajor = Number(JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).releaseNode.version.split('.')[0]);

const load = loadavg()[0];
const results = [bench('cli-start.mjs')];
for (const major of [22, 24]) {
  const node = nodeMajor(major);
  if (node) results.push(bench('cli-start.mjs', { BENCH_NODE: node }));
  else results.push({ script: `cli-start.mjs (node ${major})`, met: false });
}
results.push(bench('box-node.mjs'), bench('converged.mjs'), bench('bootstrap-vs-raw.mjs'), bench('scaling.mjs'), bench('agent-soak.mjs'));
// The agent of a release runs on the Node the release embeds: its memory and CPU targets are checked there too.
if (releaseMajor !== Number(process.versions.node.split('.')[0])) {
  const node = nodeMajor(releaseMajor);
  results.push(node ? bench('agent-soak.mjs', {}, node) : { script: `agent-soak.mjs (node ${releaseMajor})`, met: false });
}
const ran = results.filter(Boolean);

console.log('\nTargets:');
for (const r of ran) console.log(`  ${r.met ? 'met    ' : 'NOT met'}  ${r.script}`);
console.log(
  `(${process.platform}-${process.arch}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, load average ${load.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end)`,
);
if (args.includes('--markdown')) console.log(`\n${markdownTable(readResults())}`);
process.exitCode = ran.every((r) => r.met) ? 0 : 1;
