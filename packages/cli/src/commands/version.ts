import { FlexnodeCommand } from '../base/command.js';
import { version, versionCommand } from '../run/version.js';

/** Versions of the CLI, Node and every plugin with where it comes from (body: src/run/version.ts). */
export default class Version extends FlexnodeCommand {
  static override summary = versionCommand.summary;

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Version);
    return version(this.io(), flags);
  }
}
