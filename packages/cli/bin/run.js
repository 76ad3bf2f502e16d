#!/usr/bin/env node
// flexnode CLI entry point. The commands run most (`--version`, `version`, `steps`, `status`, `agent`, the
// long-lived process of flexnode-agent.service, and `token` from the cache, the kubelet's exec credential) start
// without oclif, each through the same command code and flag specs as its oclif command; everything else, and any
// line these fast paths do not fully understand (help, a bad flag), goes to oclif, bundled into lib/ with the
// commands (scripts/bundle-package.mjs), which reads the shipped oclif.manifest.json so commands are imported only
// when they run.
// Built-ins through process.getBuiltinModule (Node 20.16+), not import: an ES import of a built-in builds a module
// facade that reads every export (fs's lazy streams too), ~5 ms of every start, --version's included.
const { lstatSync, mkdirSync, readFileSync } = process.getBuiltinModule('node:fs');
const module = process.getBuiltinModule('node:module');
const { homedir } = process.getBuiltinModule('node:os');
const { join } = process.getBuiltinModule('node:path');

// V8's compile cache (Node 22.1+; none on Node 20): the bundles' compiled code is reused by the next start.
// Not in Node's default place, the shared temp dir, where another user could leave entries that root would
// then run: in a directory of our own, 0700, that nobody else can write (/var/cache/flexnode for root, a
// regenerable cache; ~/.cache/flexnode otherwise). Without one, no cache.
if (module.enableCompileCache) {
  const dir = privateCacheDir('compile-cache');
  if (dir) module.enableCompileCache(dir);
}

// `--no-color` is every command's flag (before a `--`): taken out here, as oclif's entry does, colour off as NO_COLOR.
const noColorEnd = process.argv.indexOf('--') === -1 ? process.argv.length : process.argv.indexOf('--');
const args = process.argv.slice(2).filter((a, i) => i + 2 >= noColorEnd || a !== '--no-color');
if (args.length !== process.argv.length - 2) process.env.NO_COLOR = '1';
// One plugin directory for root, shared by the CLI run by hand and the agent's unit (which sets the same path),
// outside /var/lib/flexnode (a completed unbootstrap removes that). Others keep oclif's per-user default.
if (process.getuid?.() === 0 && !process.env.FLEXNODE_DATA_DIR) process.env.FLEXNODE_DATA_DIR = '/var/lib/flexnode-plugins';
// A path, not a URL: parsing a relative URL is ~0.3 ms of every start (import.meta.dirname: Node 20.11+).
const cliRoot = join(import.meta.dirname, '..');
// Commands with a fast path (src/fast/<name>.ts, bundled whole as lib/fast/<name>.js).
const FAST_COMMANDS = new Set(['version', 'steps', 'status', 'token']);

let code;
let agentCode;
if (args[0] === 'agent') {
  // oclif would stay resident (~16 MB) for the life of the agent. Flags and plugin listing are core's, shared
  // with the oclif command.
  const { runAgentFromArgv } = await import('@flexnode/core/agent');
  agentCode = await runAgentFromArgv({ argv: args.slice(1), cliRoot });
} else if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  const pkg = JSON.parse(readFileSync(join(cliRoot, 'package.json'), 'utf8'));
  process.stdout.write(`${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
  code = 0;
} else if (FAST_COMMANDS.has(args[0])) {
  const { main } = await import(`../lib/fast/${args[0]}.js`);
  // The config validation memo (core's ValidationMemo) needs a directory nobody else can write: this one.
  code = await main(args, cliRoot, privateCacheDir('config'));
}

if (agentCode !== undefined) {
  process.exitCode = agentCode;
} else if (code === undefined) {
  const { execute } = await import('../lib/oclif.js');
  await execute({ dir: import.meta.url });
} else if (code === 0) {
  process.exitCode = 0;
} else {
  // As oclif's error handler does: stop now (pipes and files take stdout synchronously on Linux).
  process.exit(code);
}

/** `<cache>/<name>`, made 0700; undefined unless it is a directory of ours that only we can write. */
function privateCacheDir(name) {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  const base = uid === 0 ? '/var/cache/flexnode' : join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'flexnode');
  const dir = join(base, name);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const d of [base, dir]) {
      const st = lstatSync(d);
      if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) return undefined;
    }
    return dir;
  } catch {
    return undefined;
  }
}
