import { Args, Flags, type Interfaces } from '@oclif/core';
import { ExitCode, FlexnodeError } from '@flexnode/sdk';
import { PluginsCommand } from '../../base/plugins-command.js';
import type { Installer } from '../../plugins/installer.js';
import { parsePluginSpec, PluginSpecError, type PluginSpec } from '../../plugins/plugin-spec.js';

/** What one install did. */
interface Installed {
  name: string;
  version: string;
  from: string;
  root: string;
  /** With --force: why flexnode leaves it out. */
  leftOut?: { reason: string; fix?: string }[];
}

/** Install plugins from npm, a local tarball or folder, or a repository; refuse one flexnode would leave out. */
export default class PluginsInstall extends PluginsCommand {
  static override aliases = ['plugins:add'];
  static override summary = 'Install a plugin: an npm package, a local tarball or folder, or a repository.';
  static override description = `A local path (./plugin.tgz, /abs/plugin.tgz, ./plugin-folder) is installed from disk, without looking the plugin up in a registry; a folder is installed as a copy. An npm name (optionally @version) comes from the registry (FLEXNODE_NPM_REGISTRY, or npm's own config).

The plugin is loaded and resolved with the others (and the config, when there is one) before the command succeeds: one flexnode would leave out (it does not load, was built for another plugin API, reuses a step id, conflicts with another installed provider, needs something nothing provides) is uninstalled again and the command exits 2, unless --force.

A plugin runs as root with full access to the machine: install only plugins you trust, and pin the version.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> @org/plugin-cilium@0.1.0',
    '<%= config.bin %> <%= command.id %> ./org-plugin-crun-0.1.0.tgz',
    '<%= config.bin %> <%= command.id %> /srv/plugins/plugin-crun',
  ];
  static override strict = false;
  static override args = {
    plugin: Args.string({ description: 'npm name[@version], local path (./x.tgz, /abs/x.tgz, ./dir) or repository URL.', required: true }),
  };
  static override flags = {
    force: Flags.boolean({ char: 'f', summary: 'Keep the plugin even when flexnode would leave it out (it is named in `flexnode steps`, and status is unhealthy).' }),
    silent: Flags.boolean({ char: 's', summary: "Silence npm's output.", exclusive: ['verbose'] }),
    verbose: Flags.boolean({ char: 'v', summary: "Show npm's output in full.", exclusive: ['silent'] }),
  };

  async run(): Promise<{ installed: Installed[] }> {
    const { argv, flags } = await this.parse(PluginsInstall);
    const plugins = await this.installer(flags);
    const installed: Installed[] = [];
    for (const input of argv as string[]) {
      const spec = await this.spec(input);
      const from = spec.type === 'npm' ? `${spec.name}@${spec.tag}` : spec.url;
      // A folder is installed as a copy, like a tarball, not as a link into the author's tree.
      if (spec.type === 'repo' && spec.url.startsWith('file:')) process.env['npm_config_install_links'] = 'true';
      await this.config.runHook('plugins:preinstall', { plugin: spec });
      const previous = spec.type === 'npm' ? await this.previous(spec.name, plugins) : undefined;
      const step = this.progress(`Installing ${from}`);
      const plugin = await plugins.install(spec.type === 'npm' ? spec.name : spec.url, spec.type === 'npm' ? { tag: spec.tag } : {}).catch((error: unknown) => {
        step.done('failed');
        throw error;
      });
      step.done(`installed v${plugin.version}`);
      const problems = await this.leftOut({ name: plugin.name, version: plugin.version, root: plugin.root, kind: 'user' }, flags.config);
      if (problems.length > 0 && !flags.force) {
        const undo = this.progress(`Rolling back ${plugin.name}`);
        await plugins.uninstall(plugin.name);
        if (previous) await plugins.install(previous.spec, previous.tag ? { tag: previous.tag } : {});
        undo.done(previous ? `restored v${previous.version}` : 'removed');
        throw this.refusal(plugin.name, problems, 'installed');
      }
      if (problems.length > 0) this.warnForced(plugin.name, problems);
      installed.push({
        name: plugin.name,
        version: plugin.version,
        from,
        root: plugin.root,
        ...(problems.length ? { leftOut: problems.map((p) => ({ reason: p.reason, fix: p.fix })) } : {}),
      });
    }
    await this.config.runHook('plugins:postinstall', {});
    return { installed };
  }

  private async spec(input: string): Promise<PluginSpec> {
    try {
      return await parsePluginSpec(input);
    } catch (error) {
      if (!(error instanceof PluginSpecError)) throw error;
      throw new FlexnodeError('PLUGIN_SPEC_INVALID', error.message, {
        exitCode: ExitCode.Usage,
        hint: 'e.g. flexnode plugins install @org/plugin-x@1.2.3, ./plugin-x-1.2.3.tgz or /srv/plugins/plugin-x',
      });
    }
  }

  /** The version installed now of an npm plugin being reinstalled, to put back if the new one is refused. */
  private async previous(name: string, plugins: Installer) {
    const entry = (await plugins.list()).find((p): p is Interfaces.UserPlugin => p.name === name && p.type === 'user');
    const version = entry ? await this.installedVersion(name) : undefined;
    if (!entry || !version) return undefined;
    return entry.url ? { spec: entry.url, version } : { spec: name, tag: version, version };
  }
}
