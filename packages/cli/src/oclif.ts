// The oclif runtime bin/run.js starts, as an entry of the CLI's bundle (scripts/bundle-package.mjs): bundled
// once, shared with the commands, instead of ~180 module files loaded one by one. The fast path (fast.ts)
// borrows oclif's warning and error printing from here when it has a warning or an unexpected error to print.
import { Errors, flush, handle, run } from '@oclif/core';
import { withoutColorFlag } from './render/color.js';

export { handle } from '@oclif/core';
export { warn } from '@oclif/core/errors';

/**
 * Run the command line, as oclif's `execute` does. `--no-color` is accepted by every command (oclif's own and the
 * plugins' too): it is taken out of the arguments and turns colour off the way NO_COLOR does, for oclif's output
 * and flexnode's.
 */
export function execute(options: { dir: string }): Promise<unknown> {
  return run(withoutColorFlag(process.argv.slice(2), process.env), options.dir)
    .then((result) => {
      void flush(); // as oclif's execute: not awaited
      return result;
    })
    .catch(async (error: unknown) => handle(asOwnExit(error) as Error));
}

/**
 * A plugin's command that ends with `this.exit(n)` throws the ExitError of the plugin's own copy of @oclif/core
 * (each plugin bundle carries one). This copy's handler recognizes only its own class and would print the other as
 * an error ("Error: EEXIT: 1") after the command's real output: it becomes this copy's, which ends the run quietly
 * with the plugin's exit code.
 */
export function asOwnExit(error: unknown): unknown {
  const e = error as { code?: unknown; oclif?: { exit?: unknown } } | null | undefined;
  if (!e || e instanceof Errors.ExitError || e.code !== 'EEXIT' || typeof e.oclif?.exit !== 'number') return error;
  return new Errors.ExitError(e.oclif.exit);
}
