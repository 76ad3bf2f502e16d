#!/usr/bin/env node
// CLI start-up: `flexnode --version`, `flexnode steps` and `flexnode status` (sandbox root, nothing installed)
// against `node -e 0` measured in the same run. Targets from the issues: <= 2.5x, <= 3x, <= 4x.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { interleaved, report, timeCommand } from './lib/measure.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const cli = join(repo, 'packages/cli/bin/run.js');
const config = join(repo, 'examples/config.json');
const runs = Number(process.env.BENCH_RUNS ?? 15);
const root = mkdtempSync(join(tmpdir(), 'flexnode-bench-'));
// BENCH_NODE runs the CLI and the baseline on another Node.js (bench/run.mjs passes Node 22 and 24).
const node = process.env.BENCH_NODE ?? process.execPath;

try {
  const results = interleaved(
    [
      { name: 'node -e 0', run: () => timeCommand([node, '-e', '0']) },
      { name: 'flexnode --version', run: () => timeCommand([node, cli, '--version']) },
      { name: 'flexnode steps', run: () => timeCommand([node, cli, 'steps']) },
      // Unhealthy (nothing installed) exits 1: the time to answer is what counts.
      { name: 'flexnode status', run: () => timeCommand([node, cli, 'status', '--config', config, '--root', root], { allowFailure: true }) },
    ],
    runs,
  );
  const base = results['node -e 0'];
  const ok = report(`CLI start-up (node ${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}, ${runs} runs each, interleaved)`, [
    { name: 'node -e 0 (baseline)', stats: base },
    { name: 'flexnode --version', stats: results['flexnode --version'], baseline: base, target: 2.5 },
    { name: 'flexnode steps', stats: results['flexnode steps'], baseline: base, target: 3 },
    { name: 'flexnode status', stats: results['flexnode status'], baseline: base, target: 4 },
  ]);
  process.exitCode = ok ? 0 : 1;
} finally {
  rmSync(root, { recursive: true, force: true });
}
