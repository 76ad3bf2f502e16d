// `flexnode version` without oclif (bin/run.js); see run-fast.ts.
import { runFast, type FastCommand } from './run-fast.js';
import { version, versionCommand } from '../run/version.js';

export const command: FastCommand<Parameters<typeof version>[1]> = { flags: versionCommand.flags, run: version };

/** Run `flexnode version ARGS`: the exit code, or undefined when oclif must handle the line. */
export const main = (argv: readonly string[], cliRoot: string, cacheDir?: string) => runFast(command, argv, cliRoot, process.env, cacheDir);
