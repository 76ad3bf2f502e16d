#!/usr/bin/env node
// Bundles a package's compiled entry points (dist/, from tsc) with their dependencies into lib/, which is what
// oclif and flexnode load at run time:
//   - dist/oclif.js, dist/commands/**, dist/hooks/** (oclif: the CLI's runtime, commands and hooks),
//   - the file named by package.json `flexnode.plugin` (a plugin's step definitions).
// Why: one `flexnode status` made Node resolve and read ~500 module files (execa alone is 113, oclif and semver
// 180); a handful of bundled files halves the start-up of every command. Code shared between entries goes to
// lib/chunks, dynamic imports (node-tar, the TOML and YAML libraries) stay lazy chunks.
// Left outside: @flexnode/sdk in plugins (one copy on disk shared by the plugins; its tokens are Symbol.for
// and its errors carry a brand, so copies interoperate), other flexnode plugins (loaded by path), the Azure
// SDK (large, loaded lazily, resolves parts of itself at run time), and typescript/ts-node (oclif needs them
// only to run .ts sources in development).
//   node scripts/bundle-package.mjs <package dir>
import { build } from 'esbuild';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '.');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const dist = join(root, 'dist');
const out = join(root, 'lib');
const isTest = (f) => /\.test(\.[a-z]+)*\.js$/.test(f);
const walk = (dir) => (existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)])) : []);

const pluginEntry = pkg.flexnode?.plugin ? join(dist, pkg.flexnode.plugin.replace(/^\.\/(lib|dist)\//, '')) : undefined;
const entries = [join(dist, 'oclif.js'), pluginEntry, ...walk(join(dist, 'commands')), ...walk(join(dist, 'hooks'))].filter(
  (f) => f && existsSync(f) && f.endsWith('.js') && !isTest(f),
);
const external = ['@flexnode/plugin-*', '@oclif/plugin-plugins', '@azure/*', 'typescript', 'ts-node'];
// The CLI carries its own copy of the SDK inside core's code; a plugin shares the installed one.
if (pkg.name !== '@flexnode/cli') external.push('@flexnode/sdk');

const options = {
  entryPoints: entries,
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
const probe = await build({ ...options, outdir: join(out, '.probe'), write: false, metafile: true, external });
const lazyCommonJs = dynamicCommonJsPackages(probe.metafile);
if (lazyCommonJs.length) console.log(`${pkg.name}: left external (CommonJS loaded with import()): ${lazyCommonJs.join(', ')}`);

// Built beside lib/ and swapped in: a CLI started during a rebuild finds the old bundle or the new one, whole.
const next = `${out}.next-${process.pid}`;
rmSync(next, { recursive: true, force: true });
await build({ ...options, outdir: next, external: [...external, ...lazyCommonJs] });
const old = `${out}.old-${process.pid}`;
if (existsSync(out)) renameSync(out, old);
renameSync(next, out);
rmSync(old, { recursive: true, force: true });
console.log(`${pkg.name}: lib/ bundled from ${entries.length} entry point(s)`);

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
