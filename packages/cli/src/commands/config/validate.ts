import { ConfigError } from '@flexnode/sdk';
import { FlexnodeCommand } from '../../base/command.js';

/** Validate a config file against the published JSON Schema, without touching the machine. */
export default class ConfigValidate extends FlexnodeCommand {
  static override summary = 'Validate the config file: every problem with its field path, exit code 2 when invalid.';
  static override description =
    'Checks the file against the JSON Schema published as @flexnode/core/schema/config.schema.json, and its "plugins" choices against the installed plugins (a capability no plugin provides, a plugin that is not installed, left out or not a provider, each with a "did you mean"). Placeholders left from the example config (your-..., <...>) are listed: they pass validation but a real bootstrap refuses them.';
  static override examples = ['<%= config.bin %> config validate --config /etc/aks-flex-node/config.json'];

  async run(): Promise<unknown> {
    const { flags } = await this.parse(ConfigValidate);
    const loaded = await this.loadConfig(flags, true);
    // The "plugins" choices against the installed plugins, and what the plugins' own settings checks find
    // (pluginConfig), as bootstrap finds them before it writes anything.
    const { Session } = await import('@flexnode/core/session');
    const session = await Session.open({ command: 'validate', config: loaded, root: flags.root, sources: await this.pluginSources() });
    const issues = await session
      .configIssues()
      .then((found) => [...session.view.resolution.configIssues, ...found])
      .finally(() => session.close());
    const pluginWarnings = session.view.resolution.warnings.map((w) => `plugin ${w.plugin}: ${w.message}`);
    for (const warning of pluginWarnings) await this.io().warn(warning);
    if (issues.length > 0) {
      const { formatIssues } = await import('@flexnode/core/config');
      // The hint is for a "plugins" choice; a plugin's own setting (pluginConfig, node.labels) says what to fix itself.
      const choices = issues.some((i) => i.path === 'plugins' || i.path.startsWith('plugins.'));
      throw new ConfigError(
        `${loaded.path} is invalid (${issues.length} problem${issues.length > 1 ? 's' : ''}):\n${formatIssues(issues)}`,
        issues,
        choices ? 'flexnode steps lists the capabilities and who provides them; flexnode plugins lists the installed plugins' : undefined,
      );
    }
    const data = { ok: true, path: loaded.path, placeholders: loaded.placeholders, warnings: [...loaded.warnings, ...pluginWarnings] };
    if (this.jsonEnabled()) return data;
    this.log(`${loaded.path}: valid`);
    if (loaded.placeholders.length > 0) {
      this.log(`${loaded.placeholders.length} field(s) still hold placeholders; replace them before \`flexnode bootstrap\`:`);
      for (const p of loaded.placeholders) this.log(`  ${p}`);
    }
    return data;
  }
}
