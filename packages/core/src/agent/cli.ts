import { defaultDataDir, listPluginSources, parseArgv, type FlagSpec } from '../cli/index.js';
import type { PluginSource } from '../plugins/index.js';

/**
 * `flexnode agent` as a command line, shared by the oclif command (packages/cli/src/commands/agent.ts, which
 * builds its oclif flags from {@link agentFlags} and lists plugins with {@link listPluginSources}) and by the
 * CLI's fast path in bin/run.js, which starts the long-lived agent without loading oclif (~16 MB resident and
 * its start-up) and hands anything it does not recognise (help, an unknown flag, a bad value) to oclif.
 */
export type AgentFlagSpec = FlagSpec;

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
 * Parse the arguments after `agent` as oclif does for {@link agentFlags}. Undefined when anything is not plainly
 * one of them (help, a subcommand, an unknown flag, a missing or invalid value): oclif then handles the line.
 */
export function parseAgentArgv(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): AgentFlags | undefined {
  // An empty value (`FLEXNODE_ROOT=`, `--config ''`) is never taken: oclif refuses it with exit 2, and prints why.
  const specs: Record<string, FlagSpec> = agentFlags;
  if (Object.values(specs).some((s) => s.env !== undefined && env[s.env]?.trim() === '')) return undefined;
  const flags = parseArgv(agentFlags, argv, env) as Record<string, unknown> | undefined;
  if (!flags || Object.values(flags).some((v) => typeof v === 'string' && v.trim() === '')) return undefined;
  return flags as unknown as AgentFlags;
}

export { defaultDataDir, listPluginSources };

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
