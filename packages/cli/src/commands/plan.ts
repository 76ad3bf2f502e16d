import type { PlannedChange, RunReport } from '@flexnode/core';
import { onlyFlag } from '../base/flags.js';
import { SessionCommand } from '../base/run-command.js';

/** The dry run: what bootstrap would change, step by step, without changing anything. */
export default class Plan extends SessionCommand {
  static override summary = 'Show what bootstrap would change, without changing anything.';
  static override description =
    'Resolves the plugins, orders the steps, runs every check and, for each step that is not ok, records the files, units and commands its install would touch. Nothing on the machine changes. Placeholders from the example config are allowed here.';
  static override examples = ['<%= config.bin %> plan --config examples/config.json --root /tmp/sandbox'];

  static override flags = { only: onlyFlag };

  async run(): Promise<RunReport & { changes: PlannedChange[] }> {
    const { flags } = await this.parse(Plan);
    return this.runPlan(flags);
  }
}
