import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { PluginSource } from '../plugins/index.js';

/**
 * `flexnode agent` as a command line, shared by the oclif command (packages/cli/src/commands/agent.ts, which
 * builds its oclif flags from {@link agentFlags} and lists plugins with {@link listPluginSources}) and by the
 * CLI's fast path in bin/run.js, which starts the long-lived agent without loading oclif (~16 MB resident and
 * its start-up) and hands anything it does not recognise (help, an unknown flag, a bad value) to oclif.
 */
export interface AgentFlagSpec {
  type: 'string' | 'integer';
  summary: string;
  char?: string;
  env?: string;
  default?: string;
  multiple?: boolean;
  delimiter?: string;
  min?: number;
  hidden?: boolean;
}

export const DEFAULT_CONFIG_PATH = '/etc/aks-flex-node/config.json';

/** The agent's flags: the CLI's common `--config`/`--root`, `--only`, and two hidden ones for tests and benches. */
export const agentFlags = {
  config: { type: 'string', char: 'c', env: 'FLEXNODE_CONFIG', summary: `Path of the config file [default: ${DEFAULT_CONFIG_PATH}].` },
  root: { type: 'string', default: '/', env: 'FLEXNODE_ROOT', summary: 'Prefix for every path flexnode touches (sandboxes and tests).' },
  only: { type: 'string', multiple: true, delimiter: ',', summary: 'Run only these steps, capabilities or plugins (comma-separated) and what they depend on.' },
  'interval-ms': { type: 'integer', hidden: true, min: 10, summary: 'Override agent.intervalSeconds in milliseconds (tests, benches).' },
  'max-cycles': { type: 'integer', hidden: true, min: 0, summary: 'Stop after this many check cycles (tests, benches).' },
} as const satisfies Record<string, AgentFlagSpec>;

export interface AgentFlags {
  config?: string;
  root: string;
  only?: string[];
  'interval-ms'?: number;
  'max-cycles'?: number;
}

/**
 * Parse the arguments after `agent` as oclif does for {@link agentFlags} (`--name value`, `--name=value`, `-c
 * value`, repeated or comma-separated `--only`, environment fallbacks). Undefined when anything is not plainly
 * one of them (help, a subcommand, an unknown flag, a missing or invalid value): oclif then handles the line.
 */
export function parseAgentArgv(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): AgentFlags | undefined {
  const specs: Record<string, AgentFlagSpec> = agentFlags;
  const byChar = new Map(Object.entries(specs).flatMap(([name, s]) => (s.char ? [[s.char, name] as const] : [])));
  const values = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let name: string | undefined;
    let value: string | undefined;
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (eq >= 0) value = arg.slice(eq + 1);
    } else if (/^-[a-zA-Z]$/.test(arg)) {
      name = byChar.get(arg[1]!);
    }
    const spec = name === undefined ? undefined : specs[name];
    if (!name || !spec) return undefined;
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined || value.startsWith('-')) return undefined;
    }
    const parts = spec.multiple && spec.delimiter ? value.split(spec.delimiter) : [value];
    if (!spec.multiple && values.has(name)) return undefined;
    values.set(name, [...(values.get(name) ?? []), ...parts]);
  }
  const flags: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const given = values.get(name) ?? (spec.env && env[spec.env] !== undefined ? [env[spec.env]!] : spec.default !== undefined ? [spec.default] : undefined);
    if (!given) continue;
    if (spec.type === 'integer') {
      if (!/^-?\d+$/.test(given[0]!)) return undefined;
      const n = Number(given[0]);
      if (spec.min !== undefined && n < spec.min) return undefined;
      flags[name] = n;
    } else {
      // An empty value (`FLEXNODE_ROOT=`, `--config ''`) is never a default: oclif refuses it with exit 2.
      if (given.some((v) => v.trim() === '')) return undefined;
      flags[name] = spec.multiple ? given : given[0];
    }
  }
  return flags as unknown as AgentFlags;
}

interface PackageJson {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  oclif?: { dirname?: string; plugins?: (string | { name: string; type?: string; root?: string })[] };
}

const readJson = async (path: string): Promise<PackageJson | undefined> =>
  readFile(path, 'utf8').then(
    (text) => JSON.parse(text) as PackageJson,
    () => undefined,
  );

/** `<dir>/node_modules/<name>`, looked up from `from` upwards as Node resolves packages. */
async function findPackage(name: string, from: string): Promise<{ root: string; pjson: PackageJson } | undefined> {
  for (let dir = from; ; dir = dirname(dir)) {
    const root = join(dir, 'node_modules', name);
    const pjson = await readJson(join(root, 'package.json'));
    if (pjson) return { root, pjson };
    if (dirname(dir) === dir) return undefined;
  }
}

const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

/** oclif's data dir for a CLI: `$<BIN>_DATA_DIR` (FLEXNODE_DATA_DIR), else `$XDG_DATA_HOME/<dirname>` or `~/.local/share/<dirname>`. */
export async function defaultDataDir(cliRoot: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.FLEXNODE_DATA_DIR) return env.FLEXNODE_DATA_DIR;
  const pjson = await readJson(join(cliRoot, 'package.json'));
  return join(env.XDG_DATA_HOME || join(homedir(), '.local/share'), pjson?.oclif?.dirname ?? pjson?.name ?? 'flexnode');
}

/**
 * The plugins oclif would load for the CLI at `cliRoot`, as core's plugin sources, without oclif: those
 * `flexnode plugins install` put in the data dir (its package.json, which @oclif/plugin-plugins writes; type
 * `user`, found in its node_modules), those `flexnode plugins link` registered there (type `link`, by root),
 * then the CLI's own (`oclif.plugins` of its package.json that are among its dependencies). A name is taken
 * once, first come as in oclif. Each is checked for a flexnode plugin later, by discovery.
 */
export async function listPluginSources(options: { cliRoot: string; dataDir: string }): Promise<PluginSource[]> {
  const sources: PluginSource[] = [];
  const add = (source: PluginSource) => {
    if (!sources.some((s) => s.name === source.name)) sources.push(source);
  };
  const user = await readJson(join(options.dataDir, 'package.json'));
  const entries = (user?.oclif?.plugins ?? []).filter((p): p is { name: string; type?: string; root?: string } => typeof p === 'object' && p !== null);
  for (const p of entries.filter((e) => e.type === 'user')) {
    const found = await findPackage(p.name, options.dataDir);
    if (found) add({ name: found.pjson.name ?? p.name, version: found.pjson.version ?? '0.0.0', root: found.root, kind: 'user' });
  }
  for (const p of entries.filter((e) => e.type === 'link' && e.root)) {
    const pjson = await readJson(join(p.root!, 'package.json'));
    if (pjson) add({ name: pjson.name ?? p.name, version: pjson.version ?? '0.0.0', root: p.root!, kind: 'linked' });
  }
  const cli = await readJson(join(options.cliRoot, 'package.json'));
  const patterns = (cli?.oclif?.plugins ?? []).map((p) => glob(typeof p === 'string' ? p : p.name));
  for (const name of Object.keys(cli?.dependencies ?? {}).filter((d) => patterns.some((re) => re.test(d)))) {
    const found = await findPackage(name, options.cliRoot);
    if (found) add({ name, version: found.pjson.version ?? '0.0.0', root: found.root, kind: 'bundled' });
  }
  return sources;
}

/**
 * `flexnode agent` without oclif (bin/run.js): undefined when the arguments are not plainly the agent's (oclif
 * takes over); else runs the agent to its end and resolves with the exit code. An error at start (the config
 * cannot be loaded) is printed as the oclif command prints it: `Error:` and `Hint:` lines, its exit code.
 */
export async function runAgentFromArgv(options: { argv: readonly string[]; cliRoot: string; env?: NodeJS.ProcessEnv }): Promise<number | undefined> {
  const env = options.env ?? process.env;
  const flags = parseAgentArgv(options.argv, env);
  if (!flags) return undefined;
  const sources = await listPluginSources({ cliRoot: options.cliRoot, dataDir: await defaultDataDir(options.cliRoot, env) });
  try {
    return await runAgent(flags, sources);
  } catch (error) {
    const e = error as Error & { hint?: string; exitCode?: number };
    process.stderr.write(`Error: ${e.message}\n${e.hint ? `Hint: ${e.hint}\n` : ''}`);
    return typeof e.exitCode === 'number' ? e.exitCode : 1;
  }
}

/** Run the agent for parsed flags and plugin sources (the oclif command and the fast path both end here). */
export async function runAgent(flags: AgentFlags, sources: readonly PluginSource[]): Promise<number> {
  // The unit runs the agent --jitless: Node's fetch and FormData would end it on first touch (see jitless.ts).
  (await import('./jitless.js')).withoutUndiciGlobals();
  const { Agent } = await import('./loop.js');
  const agent = new Agent({
    configPath: flags.config ?? DEFAULT_CONFIG_PATH,
    root: flags.root,
    sources,
    only: flags.only,
    intervalMs: flags['interval-ms'],
    maxCycles: flags['max-cycles'],
  });
  return agent.run();
}
