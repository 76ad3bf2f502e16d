// `flexnode status` without oclif (bin/run.js); see run-fast.ts.
import { runFast, type FastCommand } from './run-fast.js';
import { status, statusCommand } from '../run/status.js';

export const command: FastCommand<Parameters<typeof status>[1]> = { flags: statusCommand.flags, run: status };

/** Run `flexnode status ARGS`: the exit code, or undefined when oclif must handle the line. */
export const main = (argv: readonly string[], cliRoot: string, cacheDir?: string) => runFast(command, argv, cliRoot, process.env, cacheDir);
