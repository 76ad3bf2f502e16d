// The oclif runtime bin/run.js starts, as an entry of the CLI's bundle (scripts/bundle.mjs): bundled once,
// shared with the commands, instead of ~180 module files loaded one by one.
import { execute as oclifExecute } from '@oclif/core';
import { withoutColorFlag } from './render/color.js';

/**
 * Run the command line. `--no-color` is accepted by every command (oclif's own and the plugins' too): it is taken
 * out of the arguments and turns colour off the way NO_COLOR does, for oclif's output and flexnode's.
 */
export function execute(options: { dir: string }): Promise<unknown> {
  return oclifExecute({ ...options, args: withoutColorFlag(process.argv.slice(2), process.env) });
}
