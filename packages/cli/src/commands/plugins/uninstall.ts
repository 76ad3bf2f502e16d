import { Args } from '@oclif/core';
import { ExitCode, FlexnodeError } from '@flexnode/sdk';
import { PluginsCommand } from '../../base/plugins-command.js';

/** Remove installed or linked plugins. */
export default class PluginsUninstall extends PluginsCommand {
  static override aliases = ['plugins:unlink', 'plugins:remove'];
  static override summary = 'Remove installed or linked plugins (a linked folder itself is left alone).';
  static override description =
    'The steps a removed plugin installed stay on the machine until the next `flexnode bootstrap` (which undoes them from the journal when another plugin takes over their capability) or `flexnode unbootstrap`.';
  static override examples = ['<%= config.bin %> <%= command.id %> @org/plugin-cilium'];
  static override strict = false;
  static override args = { plugin: Args.string({ description: 'Plugin name (a linked plugin: its name or folder).' }) };

  async run(): Promise<{ uninstalled: { name: string; type: string }[] }> {
    const { argv } = await this.parse(PluginsUninstall);
    const plugins = await this.installer();
    const names = (argv as string[]).length > 0 ? (argv as string[]) : ['.'];
    const uninstalled: { name: string; type: string }[] = [];
    for (const input of names) {
      const name = input.replace(/(?<!^)@[^/@]*$/, ''); // a version written with the name does not matter here
      const found = await plugins.hasPlugin(name);
      if (!found) {
        throw new FlexnodeError('PLUGIN_NOT_INSTALLED', `${name} is not installed`, {
          exitCode: ExitCode.Usage,
          hint: 'flexnode plugins lists the installed and linked plugins',
        });
      }
      const step = this.progress(`Uninstalling ${found.name}`);
      await plugins.uninstall(found.name);
      this.config.plugins.delete(found.name);
      step.done('done');
      uninstalled.push({ name: found.name, type: found.type });
    }
    await this.config.runHook('plugins:postuninstall', {});
    return { uninstalled };
  }
}
