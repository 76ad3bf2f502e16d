import { onlyFlag } from '../base/flags.js';
import { SessionCommand } from '../base/run-command.js';
import { status, statusCommand } from '../run/status.js';

/** Run every check and report whether the node is healthy (body: src/run/status.ts). */
export default class Status extends SessionCommand {
  static override summary = statusCommand.summary;
  static override description = statusCommand.description;

  static override flags = { only: onlyFlag };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Status);
    return status(this.io(), flags);
  }
}
