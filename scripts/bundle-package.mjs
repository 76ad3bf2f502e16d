#!/usr/bin/env node
// Bundles a package's compiled entry points (dist/, from tsc) with their dependencies into lib/, which is what
// oclif and flexnode load at run time:
//   - dist/oclif.js, dist/commands/**, dist/hooks/** (oclif: the CLI's runtime, commands and hooks): code
//     shared between them goes to lib/chunks, dynamic imports (node-tar, the TOML library) stay lazy chunks;
//   - whole, one file each: dist/fast/<command>.js (the CLI's commands that start without oclif, see
//     packages/cli/bin/run.js) and the file named by package.json `flexnode.plugin` (a plugin's step
//     definitions, imported on every start of a command that reads steps). Node resolves, reads and links each
//     module file of a start (~0.5 ms each beyond its code: chunks of a few hundred bytes add up); the parts of
//     such a file that are imported lazily are evaluated lazily, so one file costs only their parsing.
// Why: one `flexnode status` made Node resolve and read ~500 module files (execa alone is 113, oclif and semver
// 180); a handful of bundled files halves the start-up of every command.
// Left outside: @flexnode/sdk in plugins (one copy on disk shared by the plugins; its tokens are Symbol.for
// and its errors carry a brand, so copies interoperate), other flexnode plugins (loaded by path), the Azure
// SDK (large, loaded lazily, resolves parts of itself at run time), and typescript/ts-node (oclif needs them
// only to run .ts sources in development).
//   node scripts/bundle-package.mjs <package dir>
import { build } from 'esbuild';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '.');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const dist = join(root, 'dist');
const out = join(root, 'lib');
const isTest = (f) => /\.test(\.[a-z]+)*\.js$/.test(f);
const walk = (dir) => (existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)])) : []);

const isEntry = (f) => f && existsSync(f) && f.endsWith('.js') && !isTest(f);
const pluginEntry = pkg.flexnode?.plugin ? join(dist, pkg.flexnode.plugin.replace(/^\.\/(lib|dist)\//, '')) : undefined;
const entries = [join(dist, 'oclif.js'), ...walk(join(dist, 'commands')), ...walk(join(dist, 'hooks'))].filter(isEntry);
const wholeEntries = [pluginEntry, ...walk(join(dist, 'fast')).filter((f) => !f.endsWith('/run-fast.js'))].filter(isEntry);
const external = ['@flexnode/plugin-*', '@oclif/plugin-plugins', '@azure/*', 'typescript', 'ts-node'];
// The CLI carries its own copy of the SDK inside core's code; a plugin shares the installed one.
if (pkg.name !== '@flexnode/cli') external.push('@flexnode/sdk');

// Node's built-in modules are loaded with require(), not import, and only when first used. An ES import makes
// Node build a module facade that reads every export, which runs lazy getters (fs loads its streams, crypto
// its webcrypto, http on Node 22+ its internal undici); and a module imported at the top of a file is loaded
// when the file is, though most code paths of a command never touch crypto, zlib or child_process: together 20
// to 50 ms of a CLI start. Each built-in becomes a CommonJS shim whose exports are getters that require the
// real module on first use (esbuild reads a CommonJS module's named imports as properties, where used).
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const nodeRequire = createRequire(import.meta.url);
const lazyBuiltin = (name) => {
  const keys = Object.getOwnPropertyNames(nodeRequire(name)).filter((k) => k !== 'default' && k !== '__esModule');
  return [
    `let real;`,
    `const load = () => (real ??= require(${JSON.stringify(name)}));`,
    `for (const key of ${JSON.stringify(keys)}) Object.defineProperty(exports, key, { enumerable: true, configurable: true, get: () => load()[key] });`,
  ].join('\n');
};
const builtinsByRequire = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: /^[a-z0-9_:/]+$/ }, (args) => {
      if (!builtins.has(args.path)) return undefined;
      // The require() inside the shim is Node's own.
      return args.namespace === 'builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: lazyBuiltin(args.path), loader: 'js' }));
  },
};

const options = {
  entryPoints: entries,
  plugins: [builtinsByRequire],
  outbase: dist,
  entryNames: '[dir]/[name]',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Bundled CommonJS dependencies call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __flexnodeCreateRequire } from 'node:module'; const require = __flexnodeCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
};

// A CommonJS package loaded with import() comes out of a bundle as a namespace with a default export only
// (esbuild cannot see its named exports the way Node does), so `const { parse } = await import('yaml')` breaks.
// Such packages stay external: Node's own loader gives them their named exports, and they stay lazy.
const probe = await build({ ...options, entryPoints: [...entries, ...wholeEntries], outdir: join(out, '.probe'), write: false, metafile: true, external });
const lazyCommonJs = dynamicCommonJsPackages(probe.metafile);
if (lazyCommonJs.length) console.log(`${pkg.name}: left external (CommonJS loaded with import()): ${lazyCommonJs.join(', ')}`);

// Built beside lib/ and swapped in: a CLI started during a rebuild finds the old bundle or the new one, whole.
const next = `${out}.next-${process.pid}`;
rmSync(next, { recursive: true, force: true });
if (entries.length) await build({ ...options, outdir: next, external: [...external, ...lazyCommonJs] });
for (const entry of wholeEntries) {
  const outfile = join(next, relative(dist, entry));
  const { outbase, entryNames, chunkNames, ...whole } = options;
  await build({
    ...whole,
    entryPoints: [entry],
    outfile,
    splitting: false,
    // An import of another entry point (the fast path's lazy import of lib/oclif.js) stays an import of its bundle.
    plugins: [...options.plugins, otherEntriesExternal(entry, outfile)],
    external: [...external, ...lazyCommonJs],
  });
}
const old = `${out}.old-${process.pid}`;
if (existsSync(out)) renameSync(out, old);
renameSync(next, out);
rmSync(old, { recursive: true, force: true });
console.log(`${pkg.name}: lib/ bundled from ${entries.length + wholeEntries.length} entry point(s), ${wholeEntries.length} of them whole`);

/** esbuild plugin: imports (from `entry`'s bundle) of the other entry points refer to their own bundles. */
function otherEntriesExternal(entry, outfile) {
  const others = new Set(entries.filter((e) => e !== entry));
  return {
    name: 'other-entries-external',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        const target = resolve(args.resolveDir, args.path);
        if (!others.has(target)) return undefined;
        const path = relative(dirname(outfile), join(next, relative(dist, target)));
        return { path: path.startsWith('.') ? path : `./${path}`, external: true };
      });
    },
  };
}

/** Names of the node_modules packages that some input imports with import() and that are CommonJS. */
function dynamicCommonJsPackages(metafile) {
  const names = new Set();
  for (const input of Object.values(metafile.inputs)) {
    for (const imported of input.imports) {
      if (imported.kind !== 'dynamic-import' || imported.external) continue;
      if (metafile.inputs[imported.path]?.format !== 'cjs') continue;
      const name = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(imported.path)?.[1];
      if (name) names.add(name);
    }
  }
  return [...names].sort();
}
