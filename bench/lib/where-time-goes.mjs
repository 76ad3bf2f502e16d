// Where a command's time goes, from a V8 CPU profile of one run (node --cpu-prof): each sample is counted as
// module loading (Node's module loaders, built-in modules being compiled, and the evaluation of module bodies,
// which for bundles includes esbuild's lazily run module initialisers), garbage collection, idle (waiting
// for I/O or a child process), or the command's own work (everything else). A profile slows JavaScript down
// somewhat; the shares are what matter, the median of a few profiled runs each.
import { readdirSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LOADER = /^node:internal\/(modules\/|bootstrap\/realm)/;
// esbuild names a bundled module's lazy initialiser after its source path (`../core/dist/x.js`, `node_modules/...`).
const MODULE_INIT = /\.(c|m)?js$/;

/** Classify the samples of a parsed .cpuprofile: milliseconds per bucket. */
export function classifyProfile(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const kind = new Map();
  const classify = (id) => {
    if (kind.has(id)) return kind.get(id);
    const { callFrame } = byId.get(id);
    let k;
    if (callFrame.functionName === '(garbage collector)') k = 'gc';
    else if (callFrame.functionName === '(idle)') k = 'idle';
    else if (callFrame.functionName === '(program)' || callFrame.functionName === '(root)') k = 'other';
    else if (
      LOADER.test(callFrame.url) ||
      MODULE_INIT.test(callFrame.functionName) ||
      (callFrame.functionName === '' && callFrame.lineNumber === 0 && callFrame.url)
    )
      k = 'modules';
    else k = parent.has(id) ? classify(parent.get(id)) : 'work';
    if (k === 'other' && parent.has(id)) k = classify(parent.get(id));
    kind.set(id, k === 'other' ? 'work' : k);
    return kind.get(id);
  };
  const ms = { modules: 0, work: 0, gc: 0, idle: 0 };
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    const { functionName } = byId.get(id).callFrame;
    const d = profile.timeDeltas[i] / 1000;
    if (functionName === '(program)')
      ms.work += d; // V8 outside JS: compiling, parsing, the runtime
    else ms[classify(id)] += d;
  }
  return ms;
}

/** Profile `runs` runs of `argv` (argv[0] is the node binary); the median of each bucket. */
export function whereTimeGoes(argv, options = {}) {
  const runs = options.runs ?? 3;
  const profiles = [];
  for (let i = 0; i < runs; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'flexnode-prof-'));
    try {
      spawnSync(argv[0], ['--cpu-prof', '--cpu-prof-interval', '250', '--cpu-prof-dir', dir, ...argv.slice(1)], {
        stdio: 'ignore',
        env: options.env ?? process.env,
        cwd: options.cwd,
      });
      const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
      if (file) profiles.push(classifyProfile(JSON.parse(readFileSync(join(dir, file), 'utf8'))));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (!profiles.length) return undefined;
  const median = (k) => profiles.map((p) => p[k]).sort((a, b) => a - b)[Math.floor(profiles.length / 2)];
  return Object.fromEntries(Object.keys(profiles[0]).map((k) => [k, median(k)]));
}
