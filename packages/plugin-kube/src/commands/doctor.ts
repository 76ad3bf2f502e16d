import { readFile } from 'node:fs/promises';
import { Command, Flags } from '@oclif/core';
import { checkRoot, checkRootEnvironment, isFlexnodeError, type FlexnodeConfig } from '@flexnode/sdk';
import { CHECK_NAMES, runPreflight, type CheckOutcome } from '../preflight/checks.js';
import { preflightTargets } from '../preflight/endpoints.js';
import { effectiveProxy } from '../preflight/probe.js';
import { machineReadings, rootView } from '../preflight/readings.js';
import { kubePaths } from '../paths.js';
import { PLUGIN_NAME } from '../settings.js';

const DEFAULT_CONFIG = '/etc/aks-flex-node/config.json';

/** `flexnode doctor`: the preflight checks bootstrap runs first, with a fix for each problem. Changes nothing. */
export default class Doctor extends Command {
  static override summary = 'Check whether this machine can become a node (the preflight checks of bootstrap).';
  static override description = `Runs the preflight checks bootstrap starts with: OS and version, architecture, memory (>= 2 GB), free disk on /var/lib (>= 25 GB), cgroup version, port 10250 free, the clock, and whether Azure Resource Manager and the artifact endpoint answer (through the configured proxy). Each check passes, warns or fails with a fix. Exit code 1 when a check fails. Checks named in pluginConfig["${PLUGIN_NAME}"].skipPreflight are skipped. Changes nothing.`;
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --json --config /etc/aks-flex-node/config.json'];
  static override flags = {
    config: Flags.string({ char: 'c', summary: `Path of the config file [default: ${DEFAULT_CONFIG}].`, env: 'FLEXNODE_CONFIG' }),
    root: Flags.string({
      summary: 'Prefix for every path read (sandboxes and tests).',
      default: '/',
      env: 'FLEXNODE_ROOT',
      parse: async (input) => checkRoot(input),
    }),
    json: Flags.boolean({ summary: 'Print one JSON document: {ok, checks: [{name, title, status, detail, fix}]}.', default: false }),
  };

  /** A bad --root or FLEXNODE_ROOT is bad input: exit 2, as in every flexnode command. */
  protected override async catch(error: Error & { oclif?: { exit?: number } }): Promise<unknown> {
    if (isFlexnodeError(error)) this.error(`${error.message}${error.hint ? `\nHint: ${error.hint}` : ''}`, { exit: error.exitCode });
    return super.catch(error);
  }

  async run(): Promise<void> {
    checkRootEnvironment();
    const { flags } = await this.parse(Doctor);
    const notes: (Omit<CheckOutcome, 'name'> & { name: string })[] = [];
    const configPath = flags.config ?? DEFAULT_CONFIG;
    let config: FlexnodeConfig | undefined;
    try {
      config = JSON.parse(await readFile(configPath, 'utf8')) as FlexnodeConfig;
    } catch (error) {
      const absent = (error as NodeJS.ErrnoException).code === 'ENOENT';
      notes.push({
        name: 'config',
        title: 'Config file',
        status: 'warn',
        // Not the parser's message: it quotes the text around the error, which may be a secret.
        detail: absent ? `${configPath} does not exist: the public cloud's endpoints are checked` : `${configPath} is not readable JSON`,
        fix: absent ? 'pass --config FILE' : '`flexnode config validate` names the problem',
      });
    }
    const raw = config?.pluginConfig?.[PLUGIN_NAME] as { skipPreflight?: unknown } | undefined;
    const skip = Array.isArray(raw?.skipPreflight) ? raw.skipPreflight.filter((s): s is string => typeof s === 'string') : [];
    const readings = machineReadings(rootView(flags.root, kubePaths(config ?? ({} as FlexnodeConfig)).dropIn), effectiveProxy(config?.proxy));
    const report = await runPreflight(readings, preflightTargets(config), skip);
    const checks = [...notes, ...report.checks];

    if (flags.json) {
      this.log(JSON.stringify({ ok: report.ok, checks, ...(report.unknownSkips.length ? { unknownSkips: report.unknownSkips } : {}) }, null, 2));
    } else {
      const width = Math.max(...checks.map((c) => c.name.length));
      for (const c of checks) {
        this.log(`${c.status.toUpperCase().padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`);
        if (c.fix) this.log(`${' '.repeat(6 + width)}  fix: ${c.fix}`);
      }
      if (report.unknownSkips.length) this.log(`\nskipPreflight names no such check: ${report.unknownSkips.join(', ')} (checks: ${CHECK_NAMES.join(', ')})`);
      const count = (s: string) => checks.filter((c) => c.status === s).length;
      this.log(
        `\n${report.ok ? 'ready' : 'not ready'}: ${count('pass')} passed, ${count('warn')} warning(s), ${count('fail')} failed${count('skip') ? `, ${count('skip')} skipped` : ''}`,
      );
    }
    if (!report.ok) this.exit(1);
  }
}
