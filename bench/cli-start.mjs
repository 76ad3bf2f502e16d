#!/usr/bin/env node
// CLI start-up: `flexnode --version`, `version`, `steps`, `status` (sandbox root, nothing installed) and `token` (the
// kubelet's exec credential, from its cache) against `node -e 0` measured in the same run, on the Node given by
// BENCH_NODE (bench/run.mjs passes 20, 22 and 24); and `--version` through the release's bin/flexnode, the sh wrapper
// every command of a release install starts with (scripts/release-wrapper.mjs), in the release's layout.
// Targets (issue 20): --version <= 1.5x, steps <= 2x, status <= 3x. Then where each command's time above
// `node -e 0` goes: module loading, the command's own work, garbage collection, waiting (see
// lib/where-time-goes.mjs).
//
// Every command runs without NODE_EXTRA_CA_CERTS (this machine's environment sets one for its registry
// proxy): Node 20 reads that bundle at start-up, which adds ~100 ms to `node -e 0` and to every command alike,
// and would hide flexnode's own start-up behind it. Machines running flexnode do not normally set it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { releaseWrapper } from '../scripts/release-wrapper.mjs';
import { fmtMs, interleaved, record, report, timeCommand } from './lib/measure.mjs';
import { whereTimeGoes } from './lib/where-time-goes.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const cli = join(repo, 'packages/cli/bin/run.js');
const config = join(repo, 'examples/config.json');
const runs = Number(process.env.BENCH_RUNS ?? 15);
const root = mkdtempSync(join(tmpdir(), 'flexnode-bench-'));
// Absolute: the release layout below links to it, and a relative link would dangle (the wrapper failing in 3 ms).
const node = process.env.BENCH_NODE ? resolve(process.env.BENCH_NODE) : process.execPath;
const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

// The kubelet's exec credential (`flexnode token`, at every kubelet start and token refresh) on a cache hit: a token
// cached by plugin-arc's own code, in a directory of the bench's.
const tokens = join(root, 'tokens');
const AKS = '6dae42f8-4368-4678-94ff-3960e28e3630';
const { cachedToken } = await import(join(repo, 'packages/plugin-arc/dist/token-cache.js'));
await cachedToken(tokens, `${AKS}/.default`, async () => ({ token: 'bench', expiresOnTimestamp: Date.now() + 3_600_000 }));

// A release's layout (scripts/build-release.mjs) around this checkout: its wrapper, this Node, this CLI.
const release = join(root, 'release');
mkdirSync(join(release, 'bin'), { recursive: true });
mkdirSync(join(release, 'node/bin'), { recursive: true });
mkdirSync(join(release, 'lib/node_modules/@flexnode'), { recursive: true });
symlinkSync(node, join(release, 'node/bin/node'));
symlinkSync(join(repo, 'packages/cli'), join(release, 'lib/node_modules/@flexnode/cli'));
const cliVersion = JSON.parse(readFileSync(join(repo, 'packages/cli/package.json'), 'utf8')).version;
writeFileSync(join(release, 'bin/flexnode'), releaseWrapper(cliVersion), { mode: 0o755 });

const commands = [
  { name: 'flexnode --version', args: ['--version'], target: 1.5 },
  { name: 'release bin/flexnode --version', argv: [join(release, 'bin/flexnode'), '--version'], target: 1.5 },
  { name: 'flexnode version', args: ['version'] },
  { name: 'flexnode steps', args: ['steps'], target: 2 },
  // Unhealthy (nothing installed) exits 1: the time to answer is what counts.
  { name: 'flexnode status (sandbox root)', args: ['status', '--config', config, '--root', root], target: 3, mayFail: true },
  { name: 'flexnode token (cache hit)', args: ['token', '--resource', AKS, '--cache-dir', tokens] },
];
const argv = (c) => c.argv ?? [node, cli, ...c.args];

try {
  // Compile caches (Node 22+) are filled by a first run, as on any machine after the first command.
  // Only status may fail (unhealthy: nothing installed); a command that fails fast would time as a false "met".
  for (const c of commands) timeCommand(argv(c), { env, allowFailure: c.mayFail === true });
  const results = interleaved(
    [
      { name: 'node -e 0', run: () => timeCommand([node, '-e', '0'], { env }) },
      ...commands.map((c) => ({ name: c.name, run: () => timeCommand(argv(c), { env, allowFailure: c.mayFail === true }) })),
    ],
    runs,
  );
  const base = results['node -e 0'];
  const bench = `CLI start-up, node ${version}`;
  const ok = report(
    `CLI start-up (node ${version}, ${runs} runs each, interleaved; no NODE_EXTRA_CA_CERTS)`,
    [
      { name: 'node -e 0 (baseline)', stats: base },
      ...commands.map((c) => ({ name: c.name, stats: results[c.name], baseline: base, baselineName: 'node -e 0', target: c.target })),
    ],
    bench,
  );

  // Where the time above `node -e 0` goes: buckets of profiled runs (medians), less the baseline's, as shares
  // of the difference of the medians.
  console.log(`\nWhere the time above node -e 0 goes (medians of 3 profiled runs each; shares applied to the medians above)`);
  const floor = whereTimeGoes([node, '-e', '0'], { env });
  // (The wrapper's time is a shell's, not Node's: no profile of it.)
  for (const c of commands.filter((x) => !x.argv)) {
    const p = whereTimeGoes(argv(c), { env });
    if (!p || !floor) continue;
    const extra = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Math.max(0, v - floor[k])]));
    const total = Object.values(extra).reduce((a, b) => a + b, 0) || 1;
    const above = Math.max(0, results[c.name].median - base.median);
    const part = (k) => `${k} ${fmtMs((extra[k] / total) * above)} (${Math.round((extra[k] / total) * 100)} %)`;
    const line = ['modules', 'work', 'gc', 'idle'].map(part).join(', ');
    console.log(`  ${c.name.padEnd(34)} +${fmtMs(above).padStart(7)}: ${line}`);
    record({ bench, figure: c.name, value: `+${fmtMs(above)}`, note: line, detail: true });
  }
  process.exitCode = ok ? 0 : 1;
} finally {
  rmSync(root, { recursive: true, force: true });
}
