import { Args, Flags } from '@oclif/core';
import { resolve } from 'node:path';
import { PluginsCommand } from '../../base/plugins-command.js';

/** Link a plugin's folder (development); refuse one flexnode would leave out. */
export default class PluginsLink extends PluginsCommand {
  static override summary = 'Link a plugin folder into flexnode, for development.';
  static override description =
    'A linked plugin runs from its folder (rebuild it and the next command uses the new code) and wins a capability over a bundled plugin. The plugin is loaded and resolved with the others before the command succeeds: one flexnode would leave out is unlinked again and the command exits 2, unless --force.';
  static override examples = ['<%= config.bin %> <%= command.id %> ./plugin-hello --no-install'];
  static override args = { path: Args.string({ default: '.', description: 'The plugin folder.' }) };
  static override flags = {
    install: Flags.boolean({ allowNo: true, default: true, summary: "Install the plugin's dependencies in its folder first (with its lockfile)." }),
    force: Flags.boolean({ char: 'f', summary: 'Keep the link even when flexnode would leave the plugin out.' }),
    verbose: Flags.boolean({ char: 'v', summary: "Show npm's output in full." }),
  };

  async run(): Promise<{ linked: { name: string; version: string; root: string; leftOut?: { reason: string; fix?: string }[] } }> {
    const { args, flags } = await this.parse(PluginsLink);
    const plugins = await this.installer(flags);
    const step = this.progress(`Linking ${resolve(args.path)}`);
    // A link replaces an earlier entry of the same name (an installed version): put that back on refusal.
    const before = await plugins.list();
    const plugin = await plugins.link(args.path, { install: flags.install }).catch((error: unknown) => {
      step.done('failed');
      throw error;
    });
    step.done(`linked ${plugin.name}@${plugin.version}`);
    const problems = await this.leftOut({ name: plugin.name, version: plugin.version, root: plugin.root, kind: 'linked' }, flags.config);
    if (problems.length > 0 && !flags.force) {
      await plugins.remove(plugin.name);
      const previous = before.find((p) => p.name === plugin.name);
      if (previous) await plugins.add(previous);
      throw this.refusal(plugin.name, problems, 'linked');
    }
    if (problems.length > 0) this.warnForced(plugin.name, problems);
    await this.config.runHook('plugins:postinstall', {});
    const leftOut = problems.map((p) => ({ reason: p.reason, fix: p.fix }));
    return { linked: { name: plugin.name, version: plugin.version, root: plugin.root, ...(leftOut.length ? { leftOut } : {}) } };
  }
}
