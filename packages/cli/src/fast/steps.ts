// `flexnode steps` without oclif (bin/run.js); see run-fast.ts.
import { runFast, type FastCommand } from './run-fast.js';
import { steps, stepsCommand } from '../run/steps.js';

export const command: FastCommand<Parameters<typeof steps>[1]> = { flags: stepsCommand.flags, run: steps };

/** Run `flexnode steps ARGS`: the exit code, or undefined when oclif must handle the line. */
export const main = (argv: readonly string[], cliRoot: string, cacheDir?: string) => runFast(command, argv, cliRoot, process.env, cacheDir);
