import { Command } from '@oclif/core';
import type { LoadedConfig, PluginSource } from '@flexnode/core';
import { checkRootEnvironment, isFlexnodeError } from '@flexnode/sdk';
import { commonFlags } from './flags.js';

const DEFAULT_CONFIG = '/etc/aks-flex-node/config.json';

/** Shared behaviour of flexnode commands: common flags, --json, plugin sources, errors with exit codes. */
export abstract class FlexnodeCommand extends Command {
  static override enableJsonFlag = true;
  static override baseFlags = commonFlags;

  /** Refuse an empty FLEXNODE_ROOT before anything runs (exit 2), whatever the command. */
  override async init(): Promise<void> {
    checkRootEnvironment();
    await super.init();
  }

  /** oclif's plugins (bundled, user-installed, linked) as core's plugin sources. */
  protected pluginSources(): PluginSource[] {
    return this.config.getPluginsList().map((p) => ({
      name: p.name,
      version: p.version,
      root: p.root,
      kind: p.type === 'user' ? 'user' : p.type === 'link' ? 'linked' : 'bundled',
    }));
  }

  /** Load the config named by --config (or the upstream default). */
  protected async loadConfig(flags: { config?: string; root?: string }, allowPlaceholders: boolean, credential: 'refuse' | 'warn' = 'refuse'): Promise<LoadedConfig> {
    const { loadConfig } = await import('@flexnode/core/config');
    const loaded = await loadConfig(flags.config ?? DEFAULT_CONFIG, { allowPlaceholders, root: flags.root, credential });
    for (const warning of loaded.warnings) this.warn(warning);
    return loaded;
  }

  /** Print a FlexnodeError as a message and a hint (or JSON) and exit with its code. */
  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    // this.exit(): the command already printed its result (a --json report); only the exit code remains.
    if (error.oclif?.exit !== undefined && error.message.startsWith('EEXIT')) throw error;
    if (isFlexnodeError(error)) {
      const issues = (error as { issues?: unknown }).issues;
      if (this.jsonEnabled()) {
        this.logJson({ ok: false, error: { code: error.code, message: error.message, hint: error.hint, issues } });
      } else {
        this.logToStderr(`Error: ${error.message}`);
        if (error.hint) this.logToStderr(`Hint: ${error.hint}`);
      }
      this.exit(error.exitCode);
    }
    return super.catch(error);
  }
}
