import { Args, Flags, type Interfaces } from '@oclif/core';
import { ExitCode, FlexnodeError } from '@flexnode/sdk';
import { PluginsCommand } from '../../base/plugins-command.js';
import type { InstalledEntry, Installer } from '../../plugins/installer.js';
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
    force: Flags.boolean({
      char: 'f',
      summary: 'Keep the plugin even when flexnode would leave it out (it is named in `flexnode steps`, and status is unhealthy).',
    }),
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
      await this.config.runHook('plugins:preinstall', { plugin: spec });
      // What is installed now: a plugin replaced by a refused one is put back (its name is known only afterwards).
      const before = await Promise.all((await plugins.list()).map(async (entry) => ({ entry, version: await this.installedVersion(entry.name) })));
      const step = this.progress(`Installing ${from}`);
      const plugin = await installFrom(plugins, spec.type === 'npm' ? spec.name : spec.url, spec.type === 'npm' ? spec.tag : undefined).catch(
        (error: unknown) => {
          step.done('failed');
          throw error;
        },
      );
      step.done(`installed v${plugin.version}`);
      const problems = await this.leftOut({ name: plugin.name, version: plugin.version, root: plugin.root, kind: 'user' }, flags.config);
      if (problems.length > 0 && !flags.force) {
        const previous = this.previous(plugin.name, before);
        const undo = this.progress(`Rolling back ${plugin.name}`);
        await plugins.uninstall(plugin.name);
        if (previous) await installFrom(plugins, previous.spec, previous.tag);
        undo.done(previous ? `restored ${previous.spec}${previous.tag ? `@${previous.tag}` : ''}` : 'removed');
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

  /**
   * How to put back the plugin a refused install replaced: its URL (a local or repository install) or its npm name
   * at the exact version it had, read before the new install replaced it on disk.
   */
  private previous(name: string, before: readonly { entry: InstalledEntry; version?: string }[]) {
    const found = before.find((p) => p.entry.name === name && p.entry.type === 'user');
    if (!found) return undefined;
    const url = (found.entry as Interfaces.UserPlugin).url;
    return url ? { spec: url } : { spec: name, tag: found.version ?? (found.entry as Interfaces.UserPlugin).tag };
  }
}

/** npm install of a name (at `tag`) or URL into the data dir; a local folder is installed as a copy, like a tarball. */
function installFrom(plugins: Installer, spec: string, tag: string | undefined) {
  if (spec.startsWith('file:')) process.env['npm_config_install_links'] = 'true';
  return plugins.install(spec, tag ? { tag } : {});
}
