#!/usr/bin/env node
// Soak: `flexnode agent` with a 100 ms interval for 1,000 check cycles against a sandbox node (temp --root,
// runtime and CNI installed from the loopback mirror). Prints RSS after the first bootstrap, after a warm-up,
// and at the end, and CPU per cycle. Targets: RSS growth < 5 % (warm-up to end) and RSS <= 60 MB.
//   node bench/agent-soak.mjs            (BENCH_CYCLES=1000, BENCH_INTERVAL_MS=100)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, SANDBOX_STEPS, sandbox, startBenchMirror } from './lib/sandbox.mjs';

const cycles = Number(process.env.BENCH_CYCLES ?? 1000);
const intervalMs = Number(process.env.BENCH_INTERVAL_MS ?? 100);
const warmup = Math.min(100, Math.floor(cycles / 10));
const ticksPerSecond = 100; // USER_HZ on Linux

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
/** VmRSS in kB; undefined once the process is gone (a zombie has none). */
const rssKb = (pid) => {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
};
const cpuTicks = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const child = spawn(
  process.execPath,
  [cli, 'agent', '--config', box.configPath, '--root', box.root, '--only', SANDBOX_STEPS, '--interval-ms', String(intervalMs), '--max-cycles', String(cycles)],
  { stdio: ['ignore', 'ignore', 'pipe'] },
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
  const peak = { rss: 0 };
  for (;;) {
    const s = readStatus();
    if (s) last = s;
    if (child.exitCode !== null) break;
    const rss = rssKb(child.pid);
    if (rss === undefined) break;
    peak.rss = Math.max(peak.rss, rss);
    if (!samples.warm && last && last.cycles >= ready.cycles + warmup) samples.warm = { rss, cycles: last.cycles, cpu: cpuTicks(child.pid), at: Date.now() };
    // The sample just before the agent stops (it exits right after its last cycle).
    if (last && last.cycles >= ready.cycles + cycles - 1 && !samples.end) samples.end = { rss, cycles: last.cycles, cpu: cpuTicks(child.pid), at: Date.now() };
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
  const healthy = last?.healthy;
  console.log(`Agent soak: ${cycles} cycles at ${intervalMs} ms against a sandbox root (steps: ${SANDBOX_STEPS})`);
  console.log(`  first bootstrap until READY        ${bootstrapMs} ms`);
  console.log(`  RSS after bootstrap                ${mb(samples.start.rss)}`);
  console.log(`  RSS after ${String(warmup).padEnd(4)} warm-up cycles     ${mb(samples.warm.rss)}`);
  console.log(`  RSS at the end (cycle ${String(end.cycles).padEnd(5)})      ${mb(end.rss)}   peak ${mb(peak.rss)}`);
  console.log(`  RSS growth, warm-up to end         ${(growth * 100).toFixed(2)} %   (target < 5 %)  ${growth < 0.05 ? 'ok' : 'MISSED'}`);
  console.log(`  RSS vs 60 MB aim                   ${mb(end.rss)}   ${end.rss <= 60 * 1024 ? 'ok' : 'MISSED'}`);
  console.log(`  CPU per cycle                      ${cpuMsPerCycle.toFixed(2)} ms  (wall ${wallMsPerCycle.toFixed(1)} ms per cycle incl. the ${intervalMs} ms sleep)`);
  console.log(`  healthy at the end                 ${healthy}`);
  process.exitCode = growth < 0.05 && healthy ? 0 : 1;
} finally {
  if (child.exitCode === null) child.kill('SIGTERM');
  await exited;
  box.dispose();
  await mirror.close();
}
