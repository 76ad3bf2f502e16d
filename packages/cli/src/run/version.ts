import type { CommandIo } from './io.js';
import { commonFlagSpecs, type CommonFlags } from './flags.js';

export const versionCommand = {
  summary: 'Show the versions of flexnode, Node.js and every plugin, with their source.',
  flags: commonFlagSpecs,
};

/** `flexnode version`: versions of the CLI, Node and every plugin with where it comes from. */
export async function version(io: CommandIo, _flags: CommonFlags): Promise<unknown> {
  const [{ discoverPlugins, resolvePlugins }, sources] = await Promise.all([import('@flexnode/core/plugins'), io.pluginSources()]);
  const discovered = await discoverPlugins(sources);
  const { plugins } = discovered;
  // Those that load but that resolution leaves out (a step id taken, two providers, a missing service) are broken
  // too: named here as in `flexnode steps` (without a config: the config's choices are `steps`' to weigh).
  const problems = [...discovered.problems, ...resolvePlugins(plugins).problems];
  const flexnode = new Set(plugins.map((p) => p.name));
  const data = {
    flexnode: io.cli.version,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    plugins: sources
      .filter((s) => s.name !== io.cli.name)
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
  if (io.json) return data;
  io.log(`flexnode ${data.flexnode} (node ${data.node}, ${data.platform})`);
  for (const p of data.plugins) {
    io.log(`  ${p.name}@${p.version}  ${p.source}${p.flexnodePlugin ? `  api ${p.apiVersion}` : ''}  ${p.root}`);
  }
  for (const p of problems) io.log(`  ! ${p.plugin}: ${p.reason}`);
  return data;
}
