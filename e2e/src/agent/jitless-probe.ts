// The agent's --jitless guard (core's agent/jitless.ts) run on a given Node: what the e2e tests of the release's
// runtime and of each supported Node major share.
import { spawnSync } from 'node:child_process';

/** What a guarded process prints: undici's globals absent, fetch a catchable TypeError, the process alive. */
export const GUARDED_ANSWER = ['undefined undefined undefined', 'caught TypeError', 'alive'];

/**
 * Run `node` with `guard` (a built jitless.js) applied first, then touch undici's globals as the Azure SDK does
 * and call fetch. `env` carries NODE_OPTIONS (--jitless, or the unit's); `args` are node options before `-e`.
 */
export function runJitlessProbe(node: string, guard: string, options: { args?: string[]; env?: NodeJS.ProcessEnv } = {}) {
  const probe =
    `(await import(${JSON.stringify(guard)})).withoutUndiciGlobals();` +
    "console.log([typeof FormData, typeof Headers, typeof MessageEvent].join(' ')); try { await fetch('http://127.0.0.1:9'); } catch (e) { console.log('caught', e.constructor.name); } setTimeout(() => console.log('alive'), 100);";
  const r = spawnSync(node, [...(options.args ?? []), '--input-type=module', '-e', probe], { encoding: 'utf8', env: options.env ?? process.env });
  return { status: r.status, stderr: r.stderr, lines: r.stdout.trim().split('\n') };
}
