#!/usr/bin/env node
// Creates a flexnode plugin from templates/plugin:
//   node scripts/new-plugin.mjs <dir> <npm-name> [--sdk <flexnode-sdk-X.tgz> | --sdk registry]
// @flexnode/sdk comes from a tarball copied into <dir>/vendor (this checkout's SDK, packed, by default; or the
// one `npm run release` puts in dist/release) and is bundled into the plugin's own package, so the plugin
// installs, builds, tests and is installed on a node without a registry. `--sdk registry` depends on the
// published @flexnode/sdk by version instead. The result builds with `npm install && npm run build`, and its
// tests pass with `npm test`.
import { execFileSync } from 'node:child_process';
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const TEMPLATE = join(REPO, 'templates/plugin/');
const TEXT = /\.(ts|json|md|mjs|js)$|^\.gitignore$/;

function usage(message) {
  if (message) console.error(`new-plugin: ${message}`);
  console.error('usage: node scripts/new-plugin.mjs <dir> <npm-name> [--sdk <flexnode-sdk-X.tgz> | --sdk registry]');
  console.error('   e.g. node scripts/new-plugin.mjs ../plugin-calico @acme/plugin-calico');
  process.exit(2);
}

/** `@acme/plugin-calico` → `calico`: the first word of the plugin's step ids (dotted lowercase words). */
export function stepPrefix(name) {
  const base = name
    .replace(/^@[^/]+\//, '')
    .replace(/^(flexnode-)?plugin-/, '')
    .replace(/-plugin$/, '');
  const prefix = base
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return /^[a-z0-9]/.test(prefix) ? prefix : `p${prefix}`;
}

const args = process.argv.slice(2);
const sdkAt = args.indexOf('--sdk');
const sdkOption = sdkAt >= 0 ? args.splice(sdkAt, 2)[1] : undefined;
if (sdkAt >= 0 && !sdkOption) usage('--sdk needs a tarball path or "registry"');
const [dirArg, name] = args;
if (!dirArg || !name || args.length > 2) usage();
// npm's rules for a new package name: lowercase, URL-safe, optionally scoped, at most 214 characters.
if (name.length > 214 || !/^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/.test(name)) {
  usage(`"${name}" is not a valid npm package name (lowercase, optionally @scope/name)`);
}
const dir = resolve(dirArg);
const existing = await readdir(dir).catch(() => []);
if (existing.length > 0) usage(`${dir} exists and is not empty`);
const sdkVersion = JSON.parse(await readFile(join(REPO, 'packages/sdk/package.json'), 'utf8')).version;

/** The SDK tarball to vendor: the one given, else this checkout's SDK packed now (it must be built). */
async function sdkTarball() {
  if (sdkOption) {
    const given = resolve(sdkOption);
    if (!(await stat(given).catch(() => undefined))?.isFile() || !/\.(tgz|tar\.gz)$/.test(given)) usage(`--sdk ${sdkOption}: no such tarball`);
    return { path: given, cleanup: async () => {} };
  }
  if (!(await stat(join(REPO, 'packages/sdk/dist/index.js')).catch(() => undefined))) {
    usage('the SDK of this checkout is not built: run `npm run build` first (or pass --sdk <flexnode-sdk-X.tgz>, e.g. from dist/release)');
  }
  const out = await mkdtemp(join(tmpdir(), 'flexnode-sdk-'));
  const [{ filename }] = JSON.parse(
    execFileSync('npm', ['pack', join(REPO, 'packages/sdk'), '--pack-destination', out, '--json', '--silent'], { encoding: 'utf8' }),
  );
  return { path: join(out, filename), cleanup: () => rm(out, { recursive: true, force: true }) };
}

await mkdir(dir, { recursive: true });
await cp(TEMPLATE, dir, { recursive: true, filter: (src) => !/\/(node_modules|dist|dist-test)(\/|$)/.test(src) });

let sdkDependency = `^${sdkVersion}`;
let sdkSource = `the registry (${sdkDependency})`;
if (sdkOption !== 'registry') {
  const tarball = await sdkTarball();
  await mkdir(join(dir, 'vendor'));
  await copyFile(tarball.path, join(dir, 'vendor', basename(tarball.path)));
  await tarball.cleanup();
  sdkDependency = `file:vendor/${basename(tarball.path)}`;
  sdkSource = `the tarball in vendor/ (${basename(tarball.path)})`;
}
const tarballName = `${name.replace(/^@/, '').replace('/', '-')}-0.1.0.tgz`;
const replacements = {
  __PLUGIN_NAME__: name,
  __STEP_PREFIX__: stepPrefix(name),
  __SDK_DEPENDENCY__: sdkDependency,
  __SDK_SOURCE__: sdkSource,
  __SDK_VERSION__: sdkVersion,
  __TARBALL__: tarballName,
};
async function fill(path) {
  for (const entry of await readdir(path)) {
    const full = join(path, entry);
    if ((await stat(full)).isDirectory()) await fill(full);
    else if (TEXT.test(entry)) {
      let text = await readFile(full, 'utf8');
      for (const [placeholder, value] of Object.entries(replacements)) text = text.split(placeholder).join(value);
      await writeFile(full, text);
    }
  }
}
await fill(dir);

const shown = relative(process.cwd(), dir) || '.';
console.log(`Created ${name} in ${shown} (steps: ${replacements.__STEP_PREFIX__}.*; @flexnode/sdk from ${sdkSource}).

Next:
  cd ${shown}
  npm install
  npm run build && npm test && npm run lint     # npm run format fixes what lint can
  npm pack                                      # ${tarballName}, with the SDK bundled
  flexnode plugins install ./${tarballName}     # on a node, no registry needed; or: flexnode plugins link .`);
