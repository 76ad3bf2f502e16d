// The fast path of bin/run.js: commands run without loading oclif (its modules and its Config.load cost ~3x
// `node -e 0`: more than these commands' own work). Each command (src/fast/<name>.ts, one bundle each) runs the
// same body as its oclif command (src/run/<name>.ts) with the same flags (parsed from the same specs) and
// prints the same way. Anything the fast path would not do exactly as oclif does goes to oclif instead: help, a
// line the flag parser does not fully understand, oclif's debug output, a plugin with oclif hooks around
// commands, a user plugin oclif could not find (it warns about it), a colour theme for JSON.
// src/fast/fast.test.ts runs every fast command through both paths and compares what they print and their exit
// codes.
import { listPlugins, parseArgv, type FlagSpecs, type PluginListing } from '@flexnode/core/cli';
import { checkRoot, checkRootEnvironment } from '@flexnode/sdk';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeOut } from '../render/stdio.js';
import { otherErrorJson, reportFlexnodeError, type CommandIo } from '../run/io.js';
import { jsonFlagSpec } from '../run/flags.js';

/** A command of the fast path: its flags (those of its oclif command) and its body. Every one has --json. */
export interface FastCommand<F = never> {
  flags: FlagSpecs;
  run(io: CommandIo, flags: F): Promise<unknown>;
}

class Exit extends Error {
  constructor(readonly code: number) {
    super(`EEXIT: ${code}`);
  }
}

/**
 * Run `argv` (what follows `flexnode`) on the fast path: resolves with the exit code, or undefined when oclif
 * must handle the line (nothing was printed then).
 */
export async function runFast<F>(
  command: FastCommand<F>,
  argv: readonly string[],
  cliRoot: string,
  env: NodeJS.ProcessEnv = process.env,
  cacheDir?: string,
): Promise<number | undefined> {
  if (env.FLEXNODE_NO_FAST_PATH || env.DEBUG || env.FLEXNODE_DEBUG) return undefined;
  const flags = parseArgv({ ...command.flags, json: jsonFlagSpec }, argv.slice(1), env);
  if (!flags) return undefined;
  // A root oclif's parser refuses (empty, a control character: exit 2 with its message) is oclif's to print.
  if (typeof flags.root === 'string' && !rootAccepted(flags.root, env)) return undefined;
  const { pjson, listing } = cliPlugins(cliRoot, env);
  if (listing.commandHooks.length > 0 || listing.unresolved.length > 0) return undefined;
  const json = env.FLEXNODE_CONTENT_TYPE?.toLowerCase() === 'json' || flags.json === true;
  if (json && userThemeExists(pjson.oclif?.dirname ?? pjson.name, env)) return undefined;

  const io: CommandIo = {
    json,
    cli: { name: pjson.name, version: pjson.version },
    log: (message = '') => {
      if (!json) writeOut(1, `${message}\n`);
    },
    logToStderr: (message = '') => {
      if (!json) writeOut(2, `${message}\n`);
    },
    // oclif's own warning (it wraps and indents): loaded only when there is one to print.
    warn: async (message) => {
      if (!json) (await import('../oclif.js')).warn(message);
    },
    logJson: (value) => writeOut(1, `${JSON.stringify(value, null, 2)}\n`),
    exit: (code) => {
      throw new Exit(code);
    },
    pluginSources: async () => listing.sources,
    cacheDir,
  };
  try {
    const result = await command.run(io, flags as F);
    if (result && json) io.logJson(result);
    return 0;
  } catch (error) {
    if (error instanceof Exit) return error.code;
    try {
      reportFlexnodeError(io, error);
    } catch (exit) {
      if (exit instanceof Exit) return exit.code;
      throw exit;
    }
    // Any other error: printed as oclif's Command.catch and its error handler print it.
    const e = error as Error & { exitCode?: number };
    if (json) {
      const { json: document, exitCode } = otherErrorJson(e);
      io.logJson(document);
      return exitCode;
    }
    const { handle } = await import('../oclif.js');
    await handle(e); // prints and exits
    return 1;
  }
}

/** The CLI's package.json and the plugins oclif would load for it (its data dir as oclif computes it). */
export function cliPlugins(cliRoot: string, env: NodeJS.ProcessEnv): { pjson: CliPackage; listing: PluginListing } {
  const pjson = JSON.parse(readFileSync(join(cliRoot, 'package.json'), 'utf8')) as CliPackage;
  const dataDir = env.FLEXNODE_DATA_DIR || join(env.XDG_DATA_HOME || join(homedir(), '.local/share'), pjson.oclif?.dirname ?? pjson.name);
  return { pjson, listing: listPlugins({ cliRoot, dataDir }) };
}

interface CliPackage {
  name: string;
  version: string;
  oclif?: { dirname?: string };
}

/** Whether `--root`/FLEXNODE_ROOT pass the check oclif's flag parser makes (base/flags.ts, checkRoot). */
function rootAccepted(root: string, env: NodeJS.ProcessEnv): boolean {
  try {
    checkRoot(root);
    checkRootEnvironment(env);
    return true;
  } catch {
    return false;
  }
}

/** oclif colours JSON output with a user theme (`<config dir>/theme.json`) unless FLEXNODE_DISABLE_THEME. */
function userThemeExists(dirname: string, env: NodeJS.ProcessEnv): boolean {
  if (env.FLEXNODE_DISABLE_THEME === '1' || env.FLEXNODE_DISABLE_THEME === 'true') return false;
  const configDir = env.FLEXNODE_CONFIG_DIR || join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), dirname);
  return existsSync(join(configDir, 'theme.json'));
}
