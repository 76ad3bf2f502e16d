import { Command } from '@oclif/core';
import type { LoadedConfig, PluginSource } from '@flexnode/core';
import { listPluginSources } from '@flexnode/core/cli';
import { checkRootEnvironment } from '@flexnode/sdk';
import { commonFlags } from './flags.js';
import { otherErrorJson, reportFlexnodeError, type CommandIo } from '../run/io.js';
import { loadConfigFor, type CredentialUse } from '../run/session.js';

/** Shared behaviour of flexnode commands: common flags, --json, plugin sources, errors with exit codes. */
export abstract class FlexnodeCommand extends Command {
  static override enableJsonFlag = true;
  static override baseFlags = commonFlags;

  /** Refuse an empty FLEXNODE_ROOT before anything runs (exit 2), whatever the command. */
  override async init(): Promise<void> {
    checkRootEnvironment();
    await super.init();
  }

  /**
   * The CLI's plugins (bundled, user-installed, linked) as core's plugin sources: core's listing, the one the
   * fast path and the agent use too (its test holds it to oclif's own plugin list).
   */
  protected pluginSources(): Promise<PluginSource[]> {
    return listPluginSources({ cliRoot: this.config.root, dataDir: this.config.dataDir });
  }

  /** This command's output and exit, for the command bodies in src/run (shared with the fast path). */
  protected io(): CommandIo {
    return {
      json: this.jsonEnabled(),
      cli: { name: this.config.name, version: this.config.version },
      log: (message) => this.log(message),
      logToStderr: (message) => this.logToStderr(message),
      warn: async (message) => void this.warn(message),
      logJson: (value) => this.logJson(value),
      exit: (code) => this.exit(code),
      pluginSources: () => this.pluginSources(),
    };
  }

  /** Load the config named by --config (or the upstream default); `credential: 'warn'` for runs that need no secret. */
  protected async loadConfig(
    flags: { config?: string; root?: string },
    allowPlaceholders: boolean,
    credential: CredentialUse = 'refuse',
  ): Promise<LoadedConfig> {
    return loadConfigFor(this.io(), flags, allowPlaceholders, credential);
  }

  /**
   * Print a FlexnodeError as a message and a hint (or JSON) and exit with its code. With --json, any other error
   * too (a flag oclif refuses, say) is one `{"ok": false, "error": {code, message}}` document with its exit code:
   * oclif's own JSON carried the whole error object (its parse context: ~100 kB of oclif's config) and exit 1.
   */
  protected override async catch(error: Error & { exitCode?: number; code?: unknown; oclif?: { exit?: number } }): Promise<unknown> {
    // this.exit(): the command already printed its result (a --json report); only the exit code remains.
    if (error.oclif?.exit !== undefined && error.message.startsWith('EEXIT')) throw error;
    reportFlexnodeError(this.io(), error);
    if (this.jsonEnabled()) {
      const { json, exitCode } = otherErrorJson(error);
      this.logJson(json);
      return this.exit(exitCode);
    }
    return super.catch(error);
  }
}
