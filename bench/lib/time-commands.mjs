#!/usr/bin/env node
// Times commands where they run (bench/box-node.mjs runs it inside the machine, so nsenter is not timed):
// the cases of argv[2] (JSON: [{ name, argv, env? }]) interleaved, argv[3] runs each after a warm-up, then one
// profiled run of each (lib/where-time-goes.mjs). Prints one JSON line: { name: { stats, profile } }.
import { interleaved, timeCommand } from './measure.mjs';
import { whereTimeGoes } from './where-time-goes.mjs';

const cases = JSON.parse(process.argv[2]);
const runs = Number(process.argv[3] ?? 10);
const envOf = (c) => ({ ...process.env, ...(c.env ?? {}) });
const stats = interleaved(
  cases.map((c) => ({ name: c.name, run: () => timeCommand(c.argv, { env: envOf(c), allowFailure: true }) })),
  runs,
);
const out = {};
for (const c of cases) out[c.name] = { stats: stats[c.name], profile: whereTimeGoes(c.argv, { env: envOf(c) }) };
process.stdout.write(`${JSON.stringify(out)}\n`);
