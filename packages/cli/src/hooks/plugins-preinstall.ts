import type { Hook } from '@oclif/core';
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The npm that @oclif/plugin-plugins runs (its own dependency), else `npm` on PATH. */
function npmCommand(): { file: string; args: string[] } {
  try {
    const require = createRequire(createRequire(import.meta.url).resolve('@oclif/plugin-plugins'));
    const manifest = require.resolve('npm/package.json');
    const { bin } = require('npm/package.json') as { bin: string | Record<string, string> };
    return { file: process.execPath, args: [join(dirname(manifest), typeof bin === 'string' ? bin : bin.npm!)] };
  } catch {
    return { file: 'npm', args: [] };
  }
}

/** `npm view SPEC version dist.tarball`, run in the data dir like plugin-plugins' install (its .npmrc applies). */
function npmView(spec: string, cwd: string, registry?: string): Promise<{ version: string; tarball: string } | undefined> {
  const npm = npmCommand();
  const args = [...npm.args, 'view', spec, 'version', 'dist.tarball', '--json', ...(registry ? [`--registry=${registry}`] : [])];
  return new Promise((resolve) => {
    execFile(npm.file, args, { cwd, timeout: 60_000 }, (error, stdout) => {
      if (error) return resolve(undefined);
      try {
        const parsed = JSON.parse(stdout) as unknown;
        const last = (Array.isArray(parsed) ? parsed.at(-1) : parsed) as { version?: string; 'dist.tarball'?: string } | undefined;
        resolve(last?.version && last['dist.tarball'] ? { version: last.version, tarball: last['dist.tarball'] } : undefined);
      } catch {
        resolve(undefined);
      }
    });
  });
}

// Progress, not the command's result: on stderr, so that `plugins install --json` prints one JSON document.
const say = (line: string) => void process.stderr.write(`${line}\n`);

/** `flexnode plugins install` says what it installs, from where and into where, before npm runs. */
const hook: Hook<'plugins:preinstall'> = async function ({ plugin }) {
  await mkdir(this.config.dataDir, { recursive: true });
  if (plugin.type === 'npm') {
    const found = await npmView(`${plugin.name}@${plugin.tag}`, this.config.dataDir, this.config.npmRegistry);
    say(
      found
        ? `Installing ${plugin.name}@${found.version} from ${found.tarball}`
        : `Installing ${plugin.name}@${plugin.tag} (npm view could not resolve it; npm says why below)`,
    );
  } else {
    say(`Installing a plugin from ${plugin.url}`);
  }
  say(`into ${this.config.dataDir} (FLEXNODE_DATA_DIR). A plugin runs as root with full access to this machine: install only plugins you trust.`);
};

export default hook;
