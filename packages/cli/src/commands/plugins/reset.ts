import { Flags, type Interfaces } from '@oclif/core';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PluginsCommand } from '../../base/plugins-command.js';

/** Remove every installed and linked plugin (and, with --hard, npm's files in the data dir). */
export default class PluginsReset extends PluginsCommand {
  static override summary = 'Remove every installed and linked plugin.';
  static override flags = {
    hard: Flags.boolean({ summary: "Also delete the data dir's node_modules, package.json and package-lock.json." }),
    reinstall: Flags.boolean({ summary: 'Install (or link) the same plugins again afterwards.' }),
  };

  async run(): Promise<{ removed: { name: string; type: string }[]; reinstalled: { name: string; version: string }[] }> {
    const { flags } = await this.parse(PluginsReset);
    const plugins = await this.installer();
    const entries = await plugins.list();
    const removed: { name: string; type: string }[] = [];
    for (const entry of entries) {
      if (!flags.hard) await plugins.uninstall(entry.name);
      removed.push({ name: entry.name, type: entry.type });
      if (!this.jsonEnabled()) this.log(`${entry.type === 'link' ? 'unlinked' : 'uninstalled'} ${entry.name}`);
    }
    if (flags.hard) {
      for (const file of ['node_modules', 'package.json', 'package-lock.json']) await rm(join(this.config.dataDir, file), { recursive: true, force: true });
    }
    const reinstalled: { name: string; version: string }[] = [];
    for (const entry of flags.reinstall ? entries : []) {
      const user = entry as Interfaces.UserPlugin;
      const plugin =
        entry.type === 'link'
          ? await plugins.link(entry.root, { install: false })
          : await plugins.install(user.url ?? entry.name, user.url ? {} : { tag: user.tag });
      reinstalled.push({ name: plugin.name, version: plugin.version });
      if (!this.jsonEnabled()) this.log(`reinstalled ${plugin.name}@${plugin.version}`);
    }
    return { removed, reinstalled };
  }
}
