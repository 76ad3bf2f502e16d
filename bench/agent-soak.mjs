#!/usr/bin/env node
// Soak: `flexnode agent` with a 100 ms interval for 1,000 check cycles against a sandbox node (temp --root,
// runtime and CNI installed from the loopback mirror), started with the environment the systemd unit gives it
// (its Environment= lines: NODE_OPTIONS, MALLOC_ARENA_MAX; read from packages/cli/assets/flexnode-agent.service).
// RSS is summed over the agent's whole process tree at each sample (a worker or any helper child counts), CPU
// includes its children's (live ones and those it waited for). Targets, each with a verdict, all in the exit
// code: RSS <= 60 MB after the first bootstrap and at the end, RSS growth < 5 % (warm-up to end), CPU per idle
// cycle < 50 ms, healthy at the end.
// The agent runs on the node that runs this script: bench/run.mjs runs it on this machine's and on the major the
// release tarball embeds (the root package.json's releaseNode), where a release's agent runs.
//   node bench/agent-soak.mjs            (BENCH_CYCLES=1000, BENCH_INTERVAL_MS=100)
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { record } from './lib/measure.mjs';
import { repo, SANDBOX_STEPS, sandbox, startBenchMirror } from './lib/sandbox.mjs';

const cycles = Number(process.env.BENCH_CYCLES ?? 1000);
const intervalMs = Number(process.env.BENCH_INTERVAL_MS ?? 100);
const warmup = Math.min(100, Math.floor(cycles / 10));
const ticksPerSecond = 100; // USER_HZ on Linux
const RSS_LIMIT_KB = 60 * 1024;

// The CLI as installed: its package.json `bin`, wherever the build puts the rest.
const cliDir = join(repo, 'packages/cli');
const cliPkg = JSON.parse(readFileSync(join(cliDir, 'package.json'), 'utf8'));
const cli = resolve(cliDir, typeof cliPkg.bin === 'string' ? cliPkg.bin : cliPkg.bin.flexnode);

/** The unit's Environment= assignments (quoted or not), as the agent gets them under systemd. */
function unitEnvironment() {
  const unit = readFileSync(join(cliDir, 'assets/flexnode-agent.service'), 'utf8');
  const env = {};
  for (const line of unit.split('\n')) {
    const m = /^Environment=(.*)$/.exec(line.trim());
    if (!m) continue;
    for (const assignment of m[1].match(/"[^"]*"|\S+/g) ?? []) {
      const text = assignment.replace(/^"(.*)"$/, '$1');
      const eq = text.indexOf('=');
      env[text.slice(0, eq)] = text.slice(eq + 1);
    }
  }
  return env;
}
// Paths the unit points at a real node's directories stay the bench's own; only the process knobs are taken.
const knobs = Object.fromEntries(Object.entries(unitEnvironment()).filter(([k]) => ['NODE_OPTIONS', 'MALLOC_ARENA_MAX'].includes(k)));

const { manifest, mirror } = await startBenchMirror();
const box = sandbox(manifest, mirror.url);
const statusFile = join(box.root, 'var/lib/flexnode/status.json');
const readStatus = () => {
  try {
    return JSON.parse(readFileSync(statusFile, 'utf8'));
  } catch {
    return undefined; // not written yet, or being replaced (atomic rename: retry)
  }
};
const read = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process is gone
  }
};
/** The pid and all its descendants (through /proc/<pid>/task/<tid>/children). */
function tree(pid) {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    let tasks;
    try {
      tasks = readdirSync(`/proc/${all[i]}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) for (const child of (read(`/proc/${all[i]}/task/${tid}/children`) ?? '').split(' ').filter(Boolean)) all.push(Number(child));
  }
  return all;
}
/** VmRSS of the whole tree in kB; undefined once the agent is gone (a zombie has none). */
const rssKb = (pid) => {
  let sum;
  for (const p of tree(pid)) {
    const m = /VmRSS:\s+(\d+)/.exec(read(`/proc/${p}/status`) ?? '');
    if (m) sum = (sum ?? 0) + Number(m[1]);
    else if (p === pid) return undefined;
  }
  return sum;
};
/**
 * What the tree's RSS is made of, in kB: file-backed pages (mostly the node binary's, shared by every process that
 * runs it, and reclaimable), anonymous memory, and PSS (shared pages divided among the processes that map them).
 * For the reader: the target is on RSS.
 */
const memoryKb = (pid) => {
  const sum = { file: 0, anon: 0, pss: 0 };
  for (const p of tree(pid)) {
    const status = read(`/proc/${p}/status`) ?? '';
    sum.file += Number(/RssFile:\s+(\d+)/.exec(status)?.[1] ?? 0);
    sum.anon += Number(/RssAnon:\s+(\d+)/.exec(status)?.[1] ?? 0);
    sum.pss += Number(/^Pss:\s+(\d+)/m.exec(read(`/proc/${p}/smaps_rollup`) ?? '')?.[1] ?? 0);
  }
  return sum;
};
/** CPU ticks of the tree: each live process's utime+stime, plus the agent's cutime+cstime (children it reaped). */
const cpuTicks = (pid) => {
  let sum = 0;
  for (const p of tree(pid)) {
    const stat = read(`/proc/${p}/stat`);
    if (!stat) continue;
    const f = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    sum += Number(f[11]) + Number(f[12]) + (p === pid ? Number(f[13]) + Number(f[14]) : 0);
  }
  return sum;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const child = spawn(
  process.execPath,
  [cli, 'agent', '--config', box.configPath, '--root', box.root, '--only', SANDBOX_STEPS, '--interval-ms', String(intervalMs), '--max-cycles', String(cycles)],
  { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...knobs } },
);
let stderr = '';
child.stderr.on('data', (b) => (stderr = (stderr + b).slice(-4000)));
const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));

try {
  const samples = {};
  const t0 = Date.now();
  let ready;
  while (!(ready = readStatus())?.ready) {
    if (child.exitCode !== null) throw new Error(`agent exited ${child.exitCode}\n${stderr}`);
    await sleep(20);
  }
  const bootstrapMs = Date.now() - t0;
  samples.start = { rss: rssKb(child.pid), cycles: ready.cycles, cpu: cpuTicks(child.pid), at: Date.now() };
  let last;
  const peak = { rss: 0, processes: 1 };
  for (;;) {
    const s = readStatus();
    if (s) last = s;
    if (child.exitCode !== null) break;
    const rss = rssKb(child.pid);
    if (rss === undefined) break;
    const cpu = cpuTicks(child.pid);
    peak.rss = Math.max(peak.rss, rss);
    peak.processes = Math.max(peak.processes, tree(child.pid).length);
    if (!samples.warm && last && last.cycles >= ready.cycles + warmup) samples.warm = { rss, cycles: last.cycles, cpu, at: Date.now() };
    // The sample just before the agent stops (it exits right after its last cycle).
    if (last && last.cycles >= ready.cycles + cycles - 1 && !samples.end) {
      samples.end = { rss, cycles: last.cycles, cpu, at: Date.now(), memory: memoryKb(child.pid) };
    }
    await sleep(25);
  }
  const code = await exited;
  if (code !== 0) throw new Error(`agent exited ${code}\n${stderr}`);
  const end = samples.end ?? samples.warm;
  const checkCycles = end.cycles - samples.warm.cycles;
  const cpuMsPerCycle = ((end.cpu - samples.warm.cpu) * (1000 / ticksPerSecond)) / checkCycles;
  const wallMsPerCycle = (end.at - samples.warm.at) / checkCycles;
  const growth = (end.rss - samples.warm.rss) / samples.warm.rss;
  const mb = (kb) => `${(kb / 1024).toFixed(1)} MB`;
  const healthy = last?.healthy === true;
  const verdicts = {
    rssStart: samples.start.rss <= RSS_LIMIT_KB,
    rssEnd: end.rss <= RSS_LIMIT_KB,
    growth: growth < 0.05,
    cpu: cpuMsPerCycle < 50,
    healthy,
  };
  const say = (ok) => (ok ? 'ok' : 'MISSED');
  console.log(`Agent soak: ${cycles} cycles at ${intervalMs} ms against a sandbox root (steps: ${SANDBOX_STEPS})`);
  console.log(
    `  agent environment from the unit    ${
      Object.entries(knobs)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(' ') || '(none)'
    }`,
  );
  console.log(`  first bootstrap until READY        ${bootstrapMs} ms`);
  console.log(`  RSS (process tree) after bootstrap ${mb(samples.start.rss)}   (target <= 60 MB)  ${say(verdicts.rssStart)}`);
  console.log(`  RSS after ${String(warmup).padEnd(4)} warm-up cycles     ${mb(samples.warm.rss)}`);
  console.log(
    `  RSS at the end (cycle ${String(end.cycles).padEnd(5)})      ${mb(end.rss)}   (target <= 60 MB)  ${say(verdicts.rssEnd)}   peak ${mb(peak.rss)}, up to ${peak.processes} process(es)`,
  );
  if (end.memory) {
    const m = end.memory;
    console.log(`    of which file-backed ${mb(m.file)} (mostly the node binary's pages, shared), anonymous ${mb(m.anon)}; PSS ${mb(m.pss)}`);
  }
  console.log(`  RSS growth, warm-up to end         ${(growth * 100).toFixed(2)} %   (target < 5 %)  ${say(verdicts.growth)}`);
  console.log(
    `  CPU per cycle (incl. children)     ${cpuMsPerCycle.toFixed(2)} ms  (target < 50 ms)  ${say(verdicts.cpu)}   (wall ${wallMsPerCycle.toFixed(1)} ms per cycle incl. the ${intervalMs} ms sleep)`,
  );
  console.log(`  healthy at the end                 ${healthy}   ${say(healthy)}`);
  const bench = `Agent soak, node ${process.version}`;
  record({
    bench,
    figure: 'RSS (process tree) after bootstrap / at the end',
    value: `${mb(samples.start.rss)} / ${mb(end.rss)}`,
    target: '<= 60 MB',
    met: verdicts.rssStart && verdicts.rssEnd,
  });
  if (end.memory) {
    const m = end.memory;
    record({
      bench,
      figure: 'RSS at the end: file-backed (mostly the node binary, shared) / anonymous; PSS',
      value: `${mb(m.file)} / ${mb(m.anon)}; ${mb(m.pss)}`,
    });
  }
  record({
    bench,
    figure: `RSS growth over ${checkCycles} cycles at ${intervalMs} ms`,
    value: `${(growth * 100).toFixed(2)} %`,
    target: '< 5 %',
    met: verdicts.growth,
  });
  record({ bench, figure: 'CPU per idle cycle (children included)', value: `${cpuMsPerCycle.toFixed(1)} ms`, target: '< 50 ms', met: verdicts.cpu });
  record({ bench, figure: 'healthy at the end', value: String(healthy), met: healthy });
  process.exitCode = Object.values(verdicts).every(Boolean) ? 0 : 1;
} finally {
  if (child.exitCode === null) child.kill('SIGTERM');
  await exited;
  box.dispose();
  await mirror.close();
}
