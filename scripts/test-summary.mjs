#!/usr/bin/env node
// Runs every package's tests through turbo, then prints one closing line that sums mocha's
// "N passing / N failing / N pending" over all packages, so CI and people see the total at a glance.
import { spawn, spawnSync } from 'node:child_process';

// Everything is built first: some packages' integration tests load others' built output (the e2e mirror, the
// real Host) that turbo's per-package dependencies would not build before them.
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', FORCE_COLOR: '0' };
const build = spawnSync('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], { stdio: 'inherit', env });
if (build.status !== 0) process.exit(build.status ?? 1);

const child = spawn('npx', ['turbo', 'run', 'test', '--concurrency=1', '--output-logs=full', ...process.argv.slice(2)], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env,
});
const totals = { passing: 0, failing: 0, pending: 0 };
// turbo's own count of its tasks: a test task that was killed (SIGTERM, exit 143) has printed no mocha totals, and
// turbo, itself stopped by a signal, may still exit 0. Every task must have succeeded.
let tasks;
let buffer = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  buffer += chunk.toString();
  const lines = buffer.split('\n');
  buffer = lines.pop() ?? '';
  for (const raw of lines) {
    const line = raw.replace(/\u001b\[[0-9;]*m/g, '');
    const m = /^\S*:test: +(\d+) (passing|failing|pending)\b/.exec(line);
    if (m) totals[m[2]] += Number(m[1]);
    const t = /^\s*Tasks:\s+(\d+) successful, (\d+) total/.exec(line);
    if (t) tasks = { successful: Number(t[1]), total: Number(t[2]) };
  }
});
child.on('close', (code, signal) => {
  console.log(`\n${totals.passing} passed, ${totals.failing} failed, ${totals.pending} skipped`);
  const incomplete = !tasks || tasks.successful < tasks.total;
  if (incomplete) console.log(`not every test task succeeded (${tasks ? `${tasks.successful} of ${tasks.total}` : 'no task count from turbo'})`);
  if (signal) console.log(`turbo was stopped by ${signal}`);
  process.exit(code || signal || incomplete || totals.failing > 0 ? code || 1 : 0);
});
