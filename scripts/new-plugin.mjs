#!/usr/bin/env node
// Creates a flexnode plugin from templates/plugin: `node scripts/new-plugin.mjs <dir> <npm-name>`.
// The result builds with `npm install && npm run build` and its tests pass with `npm test`.
import { cp, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const TEMPLATE = fileURLToPath(new URL('../templates/plugin/', import.meta.url));
const TEXT = /\.(ts|json|md|mjs|js)$|^\.gitignore$/;

function usage(message) {
  if (message) console.error(`new-plugin: ${message}`);
  console.error('usage: node scripts/new-plugin.mjs <dir> <npm-name>   e.g. node scripts/new-plugin.mjs ../plugin-calico @acme/plugin-calico');
  process.exit(2);
}

/** `@acme/plugin-calico` → `calico`: the first word of the plugin's step ids (dotted lowercase words). */
export function stepPrefix(name) {
  const base = name.replace(/^@[^/]+\//, '').replace(/^(flexnode-)?plugin-/, '').replace(/-plugin$/, '');
  const prefix = base.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return /^[a-z0-9]/.test(prefix) ? prefix : `p${prefix}`;
}

const [dirArg, name] = process.argv.slice(2);
if (!dirArg || !name) usage();
// npm's rules for a new package name: lowercase, URL-safe, optionally scoped, at most 214 characters.
if (name.length > 214 || !/^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/.test(name)) {
  usage(`"${name}" is not a valid npm package name (lowercase, optionally @scope/name)`);
}
const dir = resolve(dirArg);
const existing = await readdir(dir).catch(() => []);
if (existing.length > 0) usage(`${dir} exists and is not empty`);

await mkdir(dir, { recursive: true });
await cp(TEMPLATE, dir, { recursive: true, filter: (src) => !/\/(node_modules|dist)(\/|$)/.test(src) });

const replacements = { __PLUGIN_NAME__: name, __STEP_PREFIX__: stepPrefix(name) };
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
console.log(`Created ${name} in ${shown} (steps: ${replacements.__STEP_PREFIX__}.*).

Next:
  cd ${shown}
  npm install
  npm run build && npm test
  flexnode plugins link .      # try it: flexnode steps, flexnode plan
  npm publish                  # then anyone: flexnode plugins install ${name}`);
