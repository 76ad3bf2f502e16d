#!/usr/bin/env node
// npm run bench: every figure of the performance issue, each measured against its baseline in the same run
// (these machines are noisy), printed as tables with min/median/max, the ratio and whether the target is met.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { nodeMajor } from './lib/other-node.mjs';
import { repo } from './lib/sandbox.mjs';

const bench = (script, env = {}) => {
  const r = spawnSync(process.execPath, [join(repo, 'bench', script)], { stdio: 'inherit', env: { ...process.env, ...env } });
  return { script: `${script}${env.BENCH_NODE ? ` (${env.BENCH_NODE})` : ''}`, met: r.status === 0 };
};

const results = [bench('cli-start.mjs')];
for (const major of [22, 24]) {
  const node = nodeMajor(major);
  if (node) results.push(bench('cli-start.mjs', { BENCH_NODE: node }));
}
results.push(bench('converged.mjs'), bench('bootstrap-vs-raw.mjs'), bench('scaling.mjs'), bench('agent-soak.mjs'));

console.log('\nTargets:');
for (const r of results) console.log(`  ${r.met ? 'met    ' : 'NOT met'}  ${r.script}`);
console.log(`(${process.platform}-${process.arch}, ${(await import('node:os')).cpus().length} cores, node ${process.version})`);
