import { ux } from '@oclif/core';
import type { PluginProblem, PluginSource } from '@flexnode/core';
import { ExitCode, FlexnodeError } from '@flexnode/sdk';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { leftOutProblems, withSource } from '../plugins/install-check.js';
import { loadInstaller, type Installer } from '../plugins/installer.js';
import { FlexnodeCommand } from './command.js';
import { commonFlags } from './flags.js';

/**
 * The `flexnode plugins` commands: @oclif/plugin-plugins' installer (npm into the data dir) behind flexnode's own
 * commands, so that they speak `--json`, read local paths, and check with core that a plugin would not be left out.
 */
export abstract class PluginsCommand extends FlexnodeCommand {
  // No --root: plugins live in the data dir (FLEXNODE_DATA_DIR), not on the machine being configured.
  static override baseFlags = { config: commonFlags.config } as typeof FlexnodeCommand.baseFlags;

  /** plugin-plugins' installer; npm's own output only in human mode (it would corrupt a JSON document). */
  protected async installer(flags: { silent?: boolean; verbose?: boolean } = {}): Promise<Installer> {
    const npmLevel = this.config.scopedEnvVar('NPM_LOG_LEVEL');
    const logLevel = this.jsonEnabled() || flags.silent ? 'silent' : flags.verbose ? 'verbose' : (npmLevel ?? 'notice');
    return loadInstaller(this.config, logLevel);
  }

  /** Progress on stderr (a spinner on a terminal); nothing with --json. */
  protected progress(start: string): { done(result: string): void } {
    if (this.jsonEnabled()) return { done: () => undefined };
    ux.action.start(start);
    return { done: (result) => ux.action.stop(result) };
  }

  /** The version npm installed in the data dir, if any. */
  protected async installedVersion(name: string): Promise<string | undefined> {
    const text = await readFile(join(this.config.dataDir, 'node_modules', name, 'package.json'), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : (JSON.parse(text) as { version?: string }).version;
  }

  /** The problems that would leave this plugin out, with the plugin as it now is in place of any earlier one. */
  protected async leftOut(added: PluginSource, configPath: string | undefined): Promise<PluginProblem[]> {
    return leftOutProblems(added.name, withSource(await this.pluginSources(), added), configPath);
  }

  /** The error that refuses a plugin flexnode would leave out (the caller has rolled it back). */
  protected refusal(name: string, problems: readonly PluginProblem[], what: 'installed' | 'linked'): FlexnodeError {
    const reasons = problems.map((p) => p.reason).join('; ');
    // The fixes as written for a plugin in place; here it is already gone again, so "uninstall it" is no fix.
    const fixes = [...new Set(problems.flatMap((p) => (p.fix && !p.fix.includes('plugins uninstall') ? [p.fix] : [])))];
    return new FlexnodeError('PLUGIN_LEFT_OUT', `${name} was not ${what}: flexnode would leave it out: ${reasons}`, {
      exitCode: ExitCode.Usage,
      hint: `nothing of it is left in place. ${fixes.length ? `${fixes.join('; ')}; or keep` : 'Fix the cause first, or keep'} it anyway with --force (flexnode steps then names it, and status is unhealthy until it is fixed)`,
    });
  }

  /** Warn about a plugin kept with --force although flexnode leaves it out. */
  protected warnForced(name: string, problems: readonly PluginProblem[]): void {
    for (const p of problems) this.warn(`${name} is kept (--force) but left out: ${p.reason}${p.fix ? ` (fix: ${p.fix})` : ''}`);
  }
}
