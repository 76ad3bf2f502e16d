import { Flags } from '@oclif/core';
import { PluginsCommand } from '../../base/plugins-command.js';

/** Update the installed plugins within their version ranges. */
export default class PluginsUpdate extends PluginsCommand {
  static override summary = 'Update the installed plugins (a plugin pinned to a version stays on it).';
  static override flags = { verbose: Flags.boolean({ char: 'v', summary: "Show npm's output in full." }) };

  async run(): Promise<{ updated: { name: string; from?: string; to?: string; leftOut?: { reason: string; fix?: string }[] }[] }> {
    const { flags } = await this.parse(PluginsUpdate);
    const plugins = await this.installer(flags);
    const users = (await plugins.list()).filter((p) => p.type === 'user');
    const before = new Map(await Promise.all(users.map(async (p) => [p.name, await this.installedVersion(p.name)] as const)));
    const step = this.progress('Updating plugins');
    await plugins.update();
    step.done('done');
    const updated = [];
    for (const p of users) {
      const to = await this.installedVersion(p.name);
      const problems = to
        ? await this.leftOut({ name: p.name, version: to, root: `${this.config.dataDir}/node_modules/${p.name}`, kind: 'user' }, flags.config)
        : [];
      // An update is not rolled back (the previous version may be gone from the registry): it is named instead.
      if (problems.length > 0) this.warnForced(p.name, problems);
      updated.push({
        name: p.name,
        from: before.get(p.name),
        to,
        ...(problems.length ? { leftOut: problems.map((q) => ({ reason: q.reason, fix: q.fix })) } : {}),
      });
      if (!this.jsonEnabled()) this.log(`${p.name} ${before.get(p.name) ?? '?'} → ${to ?? '?'}`);
    }
    return { updated };
  }
}
