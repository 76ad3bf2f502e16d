#!/usr/bin/env node
// Bundles a package's compiled entry points (dist/, from tsc) with their dependencies into lib/, which is what
// oclif and flexnode load at run time. Node resolves, reads and links every module file a command loads (one
// `flexnode status` once read ~500 of them: execa alone was 113, oclif and semver 180), so:
//   - whole, one file each: the file named by package.json `flexnode.plugin` (a plugin's step definitions,
//     imported by every command that reads steps) and a plugin's commands; the CLI's fast commands
//     (dist/fast/<command>.js, see packages/cli/bin/run.js). Their lazily imported parts are inlined and
//     evaluated lazily: one file costs only their parsing. Except, each in a file of its own (lib/lazy): big
//     modules only ever imported lazily, and a plugin's dist/impl.js, the step operations its definitions load
//     on first use (the SDK's deferredStep), so that `flexnode steps` parses definitions only;
//   - the CLI's oclif side (dist/oclif.js, dist/commands/**, dist/hooks/**): code shared between them goes to
//     lib/chunks, dynamic imports (node-tar, the TOML library) stay lazy chunks;
//   - packages our code only ever imports with import() (the Azure SDK: ~600 module files, 1.5-2 s to load as
//     installed; yaml; node-tar): bundled once each into lib/vendor/<package>.js (shared code in
//     lib/vendor/chunks) and imported from there by the whole files, where first needed;
//   - Node's built-ins: loaded with require() where first used (see lazyBuiltin below).
// The SDK is bundled into each plugin (and into the CLI with core): a few kB each instead of its seven module
// files on every start; its tokens are Symbol.for and its errors carry a brand, so copies interoperate (a
// third-party plugin may carry its own copy just the same).
// Left outside: other flexnode plugins (loaded by path), CommonJS
// packages loaded with import() on the CLI's oclif side (see below), and typescript/ts-node (oclif needs them
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
const walk = (dir) =>
  existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)])) : [];

const isEntry = (f) => f && existsSync(f) && f.endsWith('.js') && !isTest(f);
const pluginEntry = pkg.flexnode?.plugin ? join(dist, pkg.flexnode.plugin.replace(/^\.\/(lib|dist)\//, '')) : undefined;
const oclifEntries = [join(dist, 'oclif.js'), ...walk(join(dist, 'commands')), ...walk(join(dist, 'hooks'))].filter(isEntry);
const fastEntries = walk(join(dist, 'fast')).filter((f) => !f.endsWith('/run-fast.js') && isEntry(f));
// A plugin's commands are loaded one at a time, beside its steps: whole too. The CLI's oclif side shares chunks.
const entries = pluginEntry ? [] : oclifEntries;
const wholeEntries = [pluginEntry, ...(pluginEntry ? oclifEntries : []), ...fastEntries].filter(isEntry);
const external = ['@flexnode/plugin-*', '@oclif/plugin-plugins', '@azure/*', 'typescript', 'ts-node'];

// Node's built-in modules are loaded with require(), not import, and only when first used. An ES import makes
// Node build a module facade that reads every export, which runs lazy getters (fs loads its streams, crypto
// its webcrypto, http on Node 22+ its internal undici); and a module imported at the top of a file is loaded
// when the file is, though most code paths of a command never touch crypto, zlib or child_process: together 20
// to 50 ms of a CLI start. Each built-in becomes a CommonJS shim whose exports are getters that require the
// real module on first use (esbuild reads a CommonJS module's named imports as properties, where used).
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const nodeRequire = createRequire(import.meta.url);
// Read at build time to know a module's exports; deprecated or experimental ones (sys, wasi) would warn.
const quietRequire = (name) => {
  const emit = process.emitWarning;
  process.emitWarning = () => {};
  try {
    return nodeRequire(name);
  } finally {
    process.emitWarning = emit;
  }
};
/**
 * The shim of built-in `name`. `inherited`: the exports are an object whose prototype is a Proxy reading the real
 * module. esbuild copies a CommonJS module's own properties into a new object in every file of ours that imports
 * it (~100 for fs), but reads inherited ones only where they are used, and a Proxy needs no property defined at
 * start. Packages' CommonJS code gets own getters instead: TypeScript's __importStar copies own properties only.
 */
const lazyBuiltin = (name, inherited) => {
  const real = quietRequire(name);
  // A module that is itself a function or class (events, stream, assert, module) is required as it is: code
  // calls it or extends it. So is `process`, already loaded.
  if (typeof real === 'function' || real === process) return `module.exports = require(${JSON.stringify(name)});`;
  const load = [`let real;`, `const load = () => (real ??= require(${JSON.stringify(name)}));`];
  if (inherited) {
    return [
      ...load,
      `const lazy = new Proxy({}, { get: (_, key) => load()[key], set: (_, key, value) => ((load()[key] = value), true), has: (_, key) => key in load() });`,
      `module.exports = Object.create(lazy);`,
    ].join('\n');
  }
  const keys = Object.getOwnPropertyNames(real).filter((k) => k !== 'default' && k !== '__esModule');
  return [
    ...load,
    `for (const key of ${JSON.stringify(keys)}) {`,
    `  Object.defineProperty(exports, key, { enumerable: true, get: () => load()[key], set: (value) => { load()[key] = value; } });`,
    `}`,
  ].join('\n');
};
const builtinsByRequire = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: /^[a-z0-9_:/]+$/ }, (args) => {
      if (!builtins.has(args.path)) return undefined;
      // The require() inside the shim is Node's own.
      if (args.namespace.startsWith('builtin')) return { path: args.path, external: true };
      // import('node:x') is lazy already, and a bundled CommonJS shim would reach it as a default export only.
      if (args.kind === 'dynamic-import') return { path: args.path, external: true };
      return { path: args.path, namespace: args.importer.includes('/node_modules/') ? 'builtin-own' : 'builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: lazyBuiltin(args.path, true), loader: 'js' }));
    b.onLoad({ filter: /.*/, namespace: 'builtin-own' }, (args) => ({ contents: lazyBuiltin(args.path, false), loader: 'js' }));
  },
};

/**
 * esbuild plugin: `vendor-cjs:<package>` is a CommonJS package as an ES module with named exports (read from
 * the package at build time): bundled, a CommonJS module would offer its importers a default export only.
 */
const commonJsAsModule = {
  name: 'commonjs-as-module',
  setup(b) {
    b.onResolve({ filter: /^vendor-cjs:/ }, (args) => ({ path: args.path.slice('vendor-cjs:'.length), namespace: 'vendor-cjs' }));
    b.onLoad({ filter: /.*/, namespace: 'vendor-cjs' }, (args) => {
      const names = Object.keys(createRequire(join(root, 'package.json'))(args.path)).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default');
      return {
        contents: `import m from ${JSON.stringify(args.path)};\nexport default m;\nexport const { ${names.join(', ')} } = m;\n`,
        resolveDir: root,
        loader: 'js',
      };
    });
  },
};

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
  // Bundled CommonJS dependencies call require(); an ES module has none of its own. node:module through
  // process.getBuiltinModule (Node 20.16+): an ES import of it would build a module facade on every start.
  banner: { js: "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);" },
  sourcemap: 'linked',
  // Less to parse on every start. Identifiers are not minified: names stay as they are in errors and profiles.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
};

// A CommonJS package loaded with import() comes out of a bundle as a namespace with a default export only
// (esbuild cannot see its named exports the way Node does), so `const { parse } = await import('yaml')` breaks.
// Such packages stay external: Node's own loader gives them their named exports, and they stay lazy.
const probe = await build({ ...options, entryPoints: [...entries, ...wholeEntries], outdir: join(out, '.probe'), write: false, metafile: true, external });
const lazyCommonJs = entries.length ? dynamicCommonJsPackages(probe.metafile) : [];
if (lazyCommonJs.length) console.log(`${pkg.name}: left external (CommonJS loaded with import()): ${lazyCommonJs.join(', ')}`);
const vendor = wholeEntries.length ? vendorPackages(probe.metafile) : new Map();
const lazy = wholeEntries.length ? lazyOwnModules(probe.metafile) : new Map();

// Built beside lib/ and swapped in: a CLI started during a rebuild finds the old bundle or the new one, whole.
const next = `${out}.next-${process.pid}`;
rmSync(next, { recursive: true, force: true });
if (entries.length) await build({ ...options, outdir: next, external: [...external, ...lazyCommonJs] });
if (vendor.size) {
  await build({
    ...options,
    entryPoints: Object.fromEntries([...vendor].map(([name, format]) => [vendorFile(name), format === 'cjs' ? `vendor-cjs:${name}` : name])),
    plugins: [...options.plugins, commonJsAsModule],
    absWorkingDir: root,
    outbase: undefined,
    outdir: join(next, 'vendor'),
    // ESM builds where a package has one (arm-hybridcompute and arm-authorization name theirs in `module`).
    mainFields: ['module', 'main'],
    external: [],
  });
}
for (const [entry, outfile] of [
  ...wholeEntries.map((e) => [e, join(next, relative(dist, e))]),
  ...[...lazy].map(([m, name]) => [m, join(next, 'lazy', name)]),
]) {
  const { outbase, entryNames, chunkNames, ...whole } = options;
  await build({
    ...whole,
    entryPoints: [entry],
    outfile,
    splitting: false,
    // An import of another entry point (the fast path's lazy import of lib/oclif.js) stays an import of its
    // bundle; packages imported lazily are imported from lib/vendor, big modules of ours from lib/lazy.
    plugins: [...options.plugins, otherEntriesExternal(entry, outfile), vendored(outfile), lazyImported(entry, outfile)],
    external: external.filter((e) => e !== '@azure/*'),
  });
}
const old = `${out}.old-${process.pid}`;
if (existsSync(out)) renameSync(out, old);
renameSync(next, out);
rmSync(old, { recursive: true, force: true });
console.log(
  `${pkg.name}: lib/ bundled from ${entries.length + wholeEntries.length} entry point(s), ${wholeEntries.length} of them whole${vendor.size ? `; lib/vendor: ${[...vendor.keys()].join(', ')}` : ''}${lazy.size ? `; lib/lazy: ${[...lazy.values()].join(', ')}` : ''}`,
);

/** lib/vendor/<file>.js of a package specifier (`@azure/identity` → azure--identity). */
function vendorFile(name) {
  return name.replace(/^@/, '').replace(/\//g, '--');
}

/**
 * Package specifiers (→ their format, esm or cjs) that our own code (outside node_modules) imports only with
 * import(), never statically: what a command loads only on the paths that need it.
 */
function vendorPackages(metafile) {
  const kinds = new Map();
  for (const [path, input] of Object.entries(metafile.inputs)) {
    if (path.includes('node_modules/')) continue;
    for (const imported of input.imports) {
      const name = imported.external ? imported.path : imported.original;
      if (!name || !/^(@[a-z0-9-]+\/)?[a-z0-9][a-z0-9._-]*(\/|$)/.test(name) || name.startsWith('node:') || builtins.has(name)) continue;
      if (name.startsWith('@flexnode/')) continue; // our own code: bundled whole
      if (imported.external && !name.startsWith('@azure/')) continue; // other plugins, the SDK, oclif's dev tools
      const entry = kinds.get(name) ?? kinds.set(name, { kinds: new Set(), format: metafile.inputs[imported.path]?.format ?? 'esm' }).get(name);
      entry.kinds.add(imported.kind);
    }
  }
  return new Map(
    [...kinds]
      .filter(([, v]) => v.kinds.size === 1 && v.kinds.has('dynamic-import'))
      .map(([name, v]) => [name, v.format])
      .sort(),
  );
}

/**
 * Our own modules that every importer loads with import() only and that are big (the config validator generated
 * from the schema, ~180 kB), and a plugin's `dist/impl.js` (the step operations its definitions load with the
 * SDK's deferredStep), whatever its size: each gets its own file, lib/lazy/<name>.js. Inlined, a whole file would
 * carry it and every start would parse it, though many commands never run it (`flexnode steps` runs no step).
 */
function lazyOwnModules(metafile) {
  const LAZY_MIN_BYTES = 64 * 1024;
  const pluginImpl = pluginEntry ? join(dist, 'impl.js') : undefined;
  const dynamicOnly = new Map();
  for (const input of Object.values(metafile.inputs)) {
    for (const imported of input.imports) {
      if (imported.external || imported.path.includes('node_modules/') || !metafile.inputs[imported.path]) continue;
      dynamicOnly.set(imported.path, (dynamicOnly.get(imported.path) ?? true) && imported.kind === 'dynamic-import');
    }
  }
  const own = new Set([...entries, ...wholeEntries]);
  const names = new Set();
  const lazy = new Map();
  for (const [path, only] of dynamicOnly) {
    const file = resolve(path);
    if (!only || own.has(file) || (metafile.inputs[path].bytes < LAZY_MIN_BYTES && file !== pluginImpl)) continue;
    let name = file.split('/').pop();
    for (let i = 2; names.has(name); i++) name = name.replace(/(-\d+)?\.js$/, `-${i}.js`);
    names.add(name);
    lazy.set(file, name);
  }
  return lazy;
}

/** esbuild plugin: import() of a lib/lazy module (see lazyOwnModules) from the bundle at `outfile` refers to its file. */
function lazyImported(entry, outfile) {
  return {
    name: 'lazy-imported',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        const target = resolve(args.resolveDir, args.path);
        if (args.kind !== 'dynamic-import' || target === entry || !lazy.has(target)) return undefined;
        const path = relative(dirname(outfile), join(next, 'lazy', lazy.get(target)));
        return { path: path.startsWith('.') ? path : `./${path}`, external: true };
      });
    },
  };
}

/** esbuild plugin: vendored package imports of the bundle at `outfile` refer to lib/vendor/<package>.js. */
function vendored(outfile) {
  return {
    name: 'vendored',
    setup(b) {
      b.onResolve({ filter: /^[@a-z0-9]/ }, (args) => {
        if (!vendor.has(args.path)) return undefined;
        const path = relative(dirname(outfile), join(next, 'vendor', `${vendorFile(args.path)}.js`));
        return { path: path.startsWith('.') ? path : `./${path}`, external: true };
      });
    },
  };
}
