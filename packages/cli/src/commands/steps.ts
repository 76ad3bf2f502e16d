import { FlexnodeCommand } from '../base/command.js';
import { steps, stepsCommand } from '../run/steps.js';

/** Which plugins provide which capabilities, and the steps in the order they run (body: src/run/steps.ts). */
export default class Steps extends FlexnodeCommand {
  static override summary = stepsCommand.summary;
  static override description = stepsCommand.description;

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Steps);
    return steps(this.io(), flags);
  }
}
