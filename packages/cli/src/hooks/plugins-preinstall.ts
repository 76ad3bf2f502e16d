import type { Hook } from '@oclif/core';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { childEnvironment, isCredentialVariable } from '@flexnode/sdk';

/**
 * Opt-in for a plugin whose dependencies need their npm install scripts (a native module's build). The risk:
 * those scripts run as root at install time, before flexnode has loaded or checked anything of the package.
 */
export const ALLOW_SCRIPTS_VARIABLE = 'FLEXNODE_PLUGIN_INSTALL_SCRIPTS';

// Progress, not the command's result: on stderr, so that `plugins install --json` prints one JSON document.
const say = (line: string) => void process.stderr.write(`${line}\n`);

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

/** The environment npm runs with: no Azure (or other) credentials, but npm's own registry settings and tokens. */
const npmEnvironment = () =>
  childEnvironment(
    Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && /^(npm_config_|NPM_|NODE_AUTH_TOKEN$)/i.test(k))) as Record<
      string,
      string
    >,
  );

const run = (file: string, args: string[], cwd: string) =>
  new Promise<string | undefined>((done) =>
    execFile(file, args, { cwd, timeout: 60_000, env: npmEnvironment(), maxBuffer: 4 << 20 }, (error, stdout) => done(error ? undefined : stdout)),
  );

interface Manifest {
  version?: string;
  'dist.tarball'?: string;
  flexnode?: { plugin?: unknown };
  oclif?: { commands?: unknown; hooks?: unknown };
}

/** `npm view SPEC version dist.tarball flexnode oclif`, run in the data dir like plugin-plugins' install (its .npmrc applies). */
async function npmView(spec: string, cwd: string, registry?: string): Promise<Manifest | undefined> {
  const npm = npmCommand();
  const out = await run(
    npm.file,
    [...npm.args, 'view', spec, 'version', 'dist.tarball', 'flexnode', 'oclif', '--json', ...(registry ? [`--registry=${registry}`] : [])],
    cwd,
  );
  try {
    const parsed = out === undefined ? undefined : (JSON.parse(out) as unknown);
    return (Array.isArray(parsed) ? parsed.at(-1) : parsed) as Manifest | undefined;
  } catch {
    return undefined;
  }
}

/**
 * package.json of a local package: a folder's own, or a tarball's (`file:./x.tgz` or a path), read with tar
 * without unpacking anything.
 */
async function tarballManifest(url: string): Promise<Manifest | undefined> {
  const path = resolve(url.replace(/^file:/, ''));
  if (existsSync(join(path, 'package.json'))) {
    try {
      return JSON.parse(await readFile(join(path, 'package.json'), 'utf8')) as Manifest;
    } catch {
      return undefined;
    }
  }
  if (!/\.(tgz|tar\.gz|tar)$/.test(path) || !existsSync(path)) return undefined;
  const list = await run('tar', ['-tzf', path], '/');
  const entry = list?.split('\n').find((e) => /^[^/]+\/package\.json$/.test(e));
  const text = entry && (await run('tar', ['-xzOf', path, entry], '/'));
  try {
    return text ? (JSON.parse(text) as Manifest) : undefined;
  } catch {
    return undefined;
  }
}

/** A plugin declares flexnode's entry (`flexnode.plugin`) or oclif's (`oclif.commands`/`oclif.hooks`). */
const declaresPlugin = (m: Manifest) => Boolean(m.flexnode?.plugin ?? m.oclif?.commands ?? m.oclif?.hooks);

/**
 * `flexnode plugins install`: npm runs with install scripts disabled (unless FLEXNODE_PLUGIN_INSTALL_SCRIPTS=1)
 * and without the Azure credentials of this environment; a package that declares none of the plugin fields is
 * refused before npm installs it; the hook says what it installs, from where and into where.
 */
const hook: Hook<'plugins:preinstall'> = async function ({ plugin }) {
  await mkdir(this.config.dataDir, { recursive: true });
  // plugin-plugins spawns npm with this process's environment: set it for that npm.
  const scripts = process.env[ALLOW_SCRIPTS_VARIABLE] === '1';
  process.env.npm_config_ignore_scripts = scripts ? 'false' : 'true';
  for (const name of Object.keys(process.env)) if (isCredentialVariable(name) && !/^(npm_config_|NPM_|NODE_AUTH_TOKEN$)/i.test(name)) delete process.env[name];

  const manifest =
    plugin.type === 'npm' ? await npmView(`${plugin.name}@${plugin.tag}`, this.config.dataDir, this.config.npmRegistry) : await tarballManifest(plugin.url);
  const spec = plugin.type === 'npm' ? `${plugin.name}@${plugin.tag}` : plugin.url;
  if (manifest && !declaresPlugin(manifest)) {
    this.error(
      `${spec} is not a flexnode plugin: its package.json declares neither "flexnode": {"plugin": ...} nor oclif commands or hooks. Nothing was installed.`,
      { exit: 2 },
    );
  }
  // oclif installs only a package with an "oclif" field: without it npm has already put the package in place when
  // oclif refuses it ("does not appear to be a valid CLI plugin"), and it stays there, unknown to plugins uninstall.
  if (manifest?.flexnode?.plugin !== undefined && manifest.oclif === undefined) {
    this.error(
      `${spec} declares "flexnode": {"plugin": ...} but no "oclif" field, which oclif needs to install it: add "oclif": {} to its package.json (the template has it). Nothing was installed.`,
      { exit: 2 },
    );
  }
  if (plugin.type === 'npm') {
    say(
      manifest?.version && manifest['dist.tarball']
        ? `Installing ${plugin.name}@${manifest.version} from ${manifest['dist.tarball']}`
        : `Installing ${plugin.name}@${plugin.tag} (npm view could not resolve it; npm says why below)`,
    );
  } else {
    say(`Installing a plugin from ${plugin.url}${manifest ? '' : ' (its package.json cannot be read before npm fetches it)'}`);
  }
  say(`into ${this.config.dataDir} (FLEXNODE_DATA_DIR). A plugin runs as root with full access to this machine: install only plugins you trust.`);
  say(
    scripts
      ? `${ALLOW_SCRIPTS_VARIABLE}=1: npm install scripts of the plugin and its dependencies RUN, as this user, now.`
      : `npm install scripts are disabled (set ${ALLOW_SCRIPTS_VARIABLE}=1 for a plugin that needs them, knowing they run as root).`,
  );
};

export default hook;
