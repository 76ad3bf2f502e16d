import { readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { PluginSource } from '../plugins/types.js';

// Read synchronously: a handful of small package.json files on every CLI start, where a promise per file costs
// more than the read.

interface PluginEntry {
  name: string;
  type?: string;
  root?: string;
}

interface PackageJson {
  name?: string;
  version?: string;
  flexnode?: { plugin?: unknown };
  dependencies?: Record<string, string>;
  oclif?: { dirname?: string; plugins?: (string | PluginEntry)[]; hooks?: Record<string, unknown> };
}

/**
 * oclif hooks that run around a command (oclif's Config.runHook calls them for every plugin that has them). Not
 * command_not_found, command_incomplete or jit_plugin_not_installed: they run only for a line that names no
 * installed command, which the fast path never serves (the CLI's own command_not_found answers --json).
 */
const COMMAND_HOOKS = ['init', 'prerun', 'postrun', 'finally', 'preparse'];

const readJson = (path: string): PackageJson | undefined => {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
};

/**
 * `<dir>/node_modules/<name>`, looked up from `from` upwards as Node resolves packages; its real path, as oclif
 * names a plugin's root (npm workspaces and `npm link` make node_modules entries symlinks).
 */
function findPackage(name: string, from: string): { root: string; pjson: PackageJson } | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const root = join(dir, 'node_modules', name);
    const pjson = readJson(join(root, 'package.json'));
    if (pjson) return { root: realpathSync.native(root), pjson };
    if (dirname(dir) === dir) return undefined;
  }
}

const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

/** A package's dependencies that its `oclif.plugins` names (globs allowed): its plugins, as oclif finds them. */
const pluginDependencies = (pjson: PackageJson): string[] => {
  const patterns = (pjson.oclif?.plugins ?? []).map((p) => glob(typeof p === 'string' ? p : p.name));
  return Object.keys(pjson.dependencies ?? {}).filter((d) => patterns.some((re) => re.test(d)));
};

/** oclif's data dir for a CLI: `$<BIN>_DATA_DIR` (FLEXNODE_DATA_DIR), else `$XDG_DATA_HOME/<dirname>` or `~/.local/share/<dirname>`. */
export async function defaultDataDir(cliRoot: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.FLEXNODE_DATA_DIR) return env.FLEXNODE_DATA_DIR;
  const pjson = readJson(join(cliRoot, 'package.json'));
  return join(env.XDG_DATA_HOME || join(homedir(), '.local/share'), pjson?.oclif?.dirname ?? pjson?.name ?? 'flexnode');
}

/** The CLI's plugins as core's plugin sources, and what else oclif would do with them. */
export interface PluginListing {
  sources: PluginSource[];
  /** Plugins (the CLI included) with oclif hooks that run around every command: only oclif runs those. */
  commandHooks: string[];
  /** Plugins named (by the data dir or a package's `oclif.plugins`) but not found: oclif warns about them. */
  unresolved: string[];
}

/**
 * The plugins oclif would load for the CLI at `cliRoot`, without oclif: those `flexnode plugins install` put in
 * the data dir (its package.json, which @oclif/plugin-plugins writes; type `user`, found in its node_modules),
 * those `flexnode plugins link` registered there (type `link`, by root), then the CLI's own (`oclif.plugins` of
 * its package.json that are among its dependencies); each plugin's own `oclif.plugins` are loaded after it, of
 * its kind. A name is taken once, first come as in oclif. Each is checked for a flexnode plugin later, by
 * discovery.
 */
export function listPlugins(options: { cliRoot: string; dataDir: string }): PluginListing {
  const sources: PluginSource[] = [];
  const commandHooks: string[] = [];
  const unresolved: string[] = [];
  const noteHooks = (name: string, pjson: PackageJson) => {
    if (Object.keys(pjson.oclif?.hooks ?? {}).some((h) => COMMAND_HOOKS.includes(h))) commandHooks.push(name);
  };
  const add = (source: PluginSource, pjson: PackageJson) => {
    if (sources.some((s) => s.name === source.name)) return;
    sources.push({ ...source, manifest: { flexnode: pjson.flexnode } });
    noteHooks(source.name, pjson);
    for (const child of pluginDependencies(pjson)) {
      const found = findPackage(child, source.root);
      if (!found) unresolved.push(child);
      else add({ name: child, version: found.pjson.version ?? '0.0.0', root: found.root, kind: source.kind }, found.pjson);
    }
  };
  const user = readJson(join(options.dataDir, 'package.json'));
  const entries = (user?.oclif?.plugins ?? []).filter((p): p is PluginEntry => typeof p === 'object' && p !== null);
  for (const p of entries.filter((e) => e.type === 'user')) {
    const found = findPackage(p.name, options.dataDir);
    if (!found) unresolved.push(p.name);
    else add({ name: found.pjson.name ?? p.name, version: found.pjson.version ?? '0.0.0', root: found.root, kind: 'user' }, found.pjson);
  }
  for (const p of entries.filter((e) => e.type === 'link' && e.root)) {
    const pjson = readJson(join(p.root!, 'package.json'));
    if (!pjson) unresolved.push(p.name);
    else add({ name: pjson.name ?? p.name, version: pjson.version ?? '0.0.0', root: p.root!, kind: 'linked' }, pjson);
  }
  const cli = readJson(join(options.cliRoot, 'package.json')) ?? {};
  noteHooks(cli.name ?? options.cliRoot, cli);
  for (const name of pluginDependencies(cli)) {
    const found = findPackage(name, options.cliRoot);
    if (!found) unresolved.push(name);
    else add({ name, version: found.pjson.version ?? '0.0.0', root: found.root, kind: 'bundled' }, found.pjson);
  }
  return { sources, commandHooks, unresolved };
}

/** {@link listPlugins}' sources: what every command (oclif's or a fast path) hands to core. */
export async function listPluginSources(options: { cliRoot: string; dataDir: string }): Promise<PluginSource[]> {
  return listPlugins(options).sources;
}
