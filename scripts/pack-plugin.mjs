#!/usr/bin/env node
// Pack a plugin of this repository as its author ships it: `node scripts/pack-plugin.mjs examples/plugin-crun [out]`.
// Inside the npm workspace a plain `npm pack` leaves the hoisted bundleDependencies (@flexnode/sdk) out of the
// tarball, and `flexnode plugins install` of it then fails for want of the SDK; this stages the package with them
// (e2e/src/plugins/pack-plugin.ts, which the tests use too). Run `npm run build` first.
import { resolve } from 'node:path';
import { packWithBundledDependencies } from '../e2e/dist/plugins/pack-plugin.js';

const [dir, out = '.'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node scripts/pack-plugin.mjs <plugin folder> [output folder]');
  process.exit(2);
}
console.log(await packWithBundledDependencies(resolve(dir), resolve(out)));
