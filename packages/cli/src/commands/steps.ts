import type { FlexnodeConfig } from '@flexnode/sdk';
import { FlexnodeCommand } from '../base/command.js';

/** Which plugins provide which capabilities, and the steps in the order they run. */
export default class Steps extends FlexnodeCommand {
  static override summary = 'List the steps in run order, who provides each capability and why.';
  static override description =
    'Reads the config when it exists (a missing default config is fine: conditions on the config are then not evaluated). A user-installed plugin wins a capability over a bundled one unless the config chooses with "plugins": {"<capability>": "<package>"}.';

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Steps);
    const { resolveSteps } = await import('@flexnode/core/plugins');
    let config: FlexnodeConfig | undefined;
    if (flags.config || (await exists('/etc/aks-flex-node/config.json'))) config = (await this.loadConfig(flags, true, 'warn')).config;
    const { resolution, graph } = await resolveSteps(this.pluginSources(), config);
    const data = {
      capabilities: resolution.capabilities.map((c) => ({ ...c })),
      steps: graph.order.map((s, i) => ({
        order: i + 1,
        id: s.id,
        title: s.title,
        plugin: s.plugin,
        provides: s.provides ?? [],
        after: graph.dependencies.get(s.id) ?? [],
      })),
      skipped: resolution.skipped.map((s) => ({ id: s.definition.id, plugin: s.plugin.name, reason: s.reason })),
      problems: resolution.problems,
      configIssues: resolution.configIssues,
      warnings: resolution.warnings,
      configEvaluated: config !== undefined,
    };
    if (this.jsonEnabled()) return data;
    this.log('Capabilities:');
    for (const c of data.capabilities) {
      const others = c.candidates.filter((n) => n !== c.provider);
      this.log(`  ${c.capability.padEnd(20)} ${c.provider}  (${c.reason}${others.length ? `; also offered by ${others.join(', ')}` : ''})`);
    }
    this.log('\nSteps, in run order:');
    for (const s of data.steps) {
      this.log(`  ${String(s.order).padStart(2)}. ${s.id.padEnd(26)} ${s.title}  [${s.plugin}]${s.after.length ? `  after ${s.after.join(', ')}` : ''}`);
    }
    if (data.skipped.length) {
      this.log('\nNot run:');
      for (const s of data.skipped) this.log(`  - ${s.id.padEnd(26)} ${s.reason}  [${s.plugin}]`);
    }
    if (data.problems.length) {
      this.log('\nPlugins left out:');
      for (const p of data.problems) this.log(`  ! ${p.plugin}: ${p.reason}${p.fix ? `\n      fix: ${p.fix}` : ''}`);
    }
    if (data.configIssues.length) {
      this.log('\nConfig plugin choices (bootstrap refuses them):');
      for (const i of data.configIssues) this.log(`  ! ${i.path}: ${i.message}`);
    }
    if (data.warnings.length) {
      this.log('\nDeprecated:');
      for (const w of data.warnings) this.log(`  ~ ${w.plugin}: ${w.message}`);
    }
    if (!config) this.log('\n(no config read: steps that depend on the config are all listed; pass --config to see exactly what runs)');
    return data;
  }
}

async function exists(path: string): Promise<boolean> {
  const { access } = await import('node:fs/promises');
  return access(path).then(
    () => true,
    () => false,
  );
}
