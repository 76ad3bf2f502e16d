// The oclif runtime bin/run.js starts, as an entry of the CLI's bundle (scripts/bundle-package.mjs): bundled
// once, shared with the commands, instead of ~180 module files loaded one by one. The fast path (fast.ts)
// borrows oclif's warning and error printing from here when it has a warning or an unexpected error to print.
import { execute as oclifExecute } from '@oclif/core';
import { withoutColorFlag } from './render/color.js';

export { handle } from '@oclif/core';
export { warn } from '@oclif/core/errors';

/**
 * Run the command line. `--no-color` is accepted by every command (oclif's own and the plugins' too): it is taken
 * out of the arguments and turns colour off the way NO_COLOR does, for oclif's output and flexnode's.
 */
export function execute(options: { dir: string }): Promise<unknown> {
  return oclifExecute({ ...options, args: withoutColorFlag(process.argv.slice(2), process.env) });
}
