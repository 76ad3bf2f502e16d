import { FlexnodeCommand } from '../base/command.js';

/** Versions of the CLI, Node and every plugin with where it comes from. */
export default class Version extends FlexnodeCommand {
  static override summary = 'Show the versions of flexnode, Node.js and every plugin, with their source.';

  async run(): Promise<unknown> {
    await this.parse(Version);
    const { discoverPlugins } = await import('@flexnode/core/plugins');
    const sources = this.pluginSources();
    const { plugins, problems } = await discoverPlugins(sources);
    const flexnode = new Set(plugins.map((p) => p.name));
    const data = {
      flexnode: this.config.version,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      plugins: sources
        .filter((s) => s.name !== this.config.name)
        .map((s) => ({
          name: s.name,
          version: s.version,
          source: s.kind,
          root: s.root,
          flexnodePlugin: flexnode.has(s.name),
          apiVersion: plugins.find((p) => p.name === s.name)?.definition.apiVersion,
        })),
      problems,
    };
    if (this.jsonEnabled()) return data;
    this.log(`flexnode ${data.flexnode} (node ${data.node}, ${data.platform})`);
    for (const p of data.plugins) {
      this.log(`  ${p.name}@${p.version}  ${p.source}${p.flexnodePlugin ? `  api ${p.apiVersion}` : ''}  ${p.root}`);
    }
    for (const p of problems) this.log(`  ! ${p.plugin}: ${p.reason}`);
    return data;
  }
}
