#!/usr/bin/env node
// Writes oclif.manifest.json for a CLI or plugin package (what `oclif manifest` does), without the heavy
// `oclif` dev tool. A shipped manifest lets oclif list commands without importing them: fast start-up.
import { Plugin } from '@oclif/core';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '.');
const plugin = new Plugin({ root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true });
await plugin.load();
const manifest = plugin.manifest;
await writeFile(join(root, 'oclif.manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`oclif.manifest.json: ${Object.keys(manifest.commands).length} command(s) for ${plugin.name}@${manifest.version}`);
