import { Flags } from '@oclif/core';
import { PluginsCommand } from '../../base/plugins-command.js';

/** The plugins flexnode runs with, where each comes from, and whether it is left out. */
export default class PluginsList extends PluginsCommand {
  static override summary = 'List the installed and linked plugins (--core: the bundled ones too).';
  static override flags = { core: Flags.boolean({ summary: 'List the bundled plugins too.' }) };

  async run(): Promise<{ name: string; version: string; type: string; root: string; leftOut?: string }[]> {
    const { flags } = await this.parse(PluginsList);
    const { resolveSteps } = await import('@flexnode/core/plugins');
    const { resolution } = await resolveSteps(await this.pluginSources());
    const problems = new Map(resolution.problems.map((p) => [p.plugin, p.reason]));
    const list = this.config
      .getPluginsList()
      .filter((p) => p.name !== this.config.name && (flags.core || (p.type !== 'core' && p.type !== 'dev')))
      .map((p) => ({ name: p.name, version: p.version, type: p.type, root: p.root, ...(problems.has(p.name) ? { leftOut: problems.get(p.name) } : {}) }))
      .sort((a, b) => a.name.localeCompare(b.name));
    if (this.jsonEnabled()) return list;
    if (list.length === 0) this.log('No plugins installed.');
    for (const p of list) {
      this.log(
        `${p.name} ${p.version}${p.type === 'user' ? '' : ` (${p.type})`}${p.type === 'link' ? ` ${p.root}` : ''}${p.leftOut ? `\n  ! left out: ${p.leftOut}` : ''}`,
      );
    }
    return list;
  }
}
