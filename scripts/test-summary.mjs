#!/usr/bin/env node
// Runs every package's tests through turbo, then prints one closing line that sums mocha's
// "N passing / N failing / N pending" over all packages, so CI and people see the total at a glance.
import { spawn } from 'node:child_process';

const child = spawn('npx', ['turbo', 'run', 'test', '--concurrency=1', '--output-logs=full', ...process.argv.slice(2)], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', FORCE_COLOR: '0' },
});
const totals = { passing: 0, failing: 0, pending: 0 };
let buffer = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  buffer += chunk.toString();
  const lines = buffer.split('\n');
  buffer = lines.pop() ?? '';
  for (const line of lines) {
    const m = /^\S*:test: +(\d+) (passing|failing|pending)\b/.exec(line.replace(/\u001b\[[0-9;]*m/g, ''));
    if (m) totals[m[2]] += Number(m[1]);
  }
});
child.on('close', (code) => {
  console.log(`\n${totals.passing} passed, ${totals.failing} failed, ${totals.pending} skipped`);
  process.exit(code ?? 1);
});
