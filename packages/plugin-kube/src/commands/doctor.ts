import { readFile, stat } from 'node:fs/promises';
import { Command, Flags } from '@oclif/core';
import { checkRoot, checkRootEnvironment, isFlexnodeError, type FlexnodeConfig } from '@flexnode/sdk';
import { CHECK_NAMES, runPreflight, type CheckOutcome, type PreflightReadings } from '../preflight/checks.js';
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

  /**
   * A bad --root or FLEXNODE_ROOT is bad input: exit 2, as in every flexnode command. With --json, that and a flag
   * line oclif refuses are one `{"ok": false, "error": {...}}` document on stdout, as flexnode's other commands print.
   */
  protected override async catch(error: Error & { oclif?: { exit?: number } }): Promise<unknown> {
    const flagsEnd = this.argv.includes('--') ? this.argv.indexOf('--') : this.argv.length;
    const json = this.argv.slice(0, flagsEnd).includes('--json');
    if (isFlexnodeError(error)) {
      if (!json) this.error(`${error.message}${error.hint ? `\nHint: ${error.hint}` : ''}`, { exit: error.exitCode });
      this.log(JSON.stringify({ ok: false, error: { code: error.code, message: error.message, hint: error.hint } }, null, 2));
      return this.exit(error.exitCode);
    }
    if (json && error.oclif?.exit === 2 && !error.message.startsWith('EEXIT')) {
      this.log(JSON.stringify({ ok: false, error: { code: 'USAGE', message: error.message } }, null, 2));
      return this.exit(2);
    }
    return super.catch(error);
  }

  async run(): Promise<void> {
    checkRootEnvironment();
    const { flags } = await this.parse(Doctor);
    const notes: (Omit<CheckOutcome, 'name'> & { name: string })[] = [];
    const configPath = flags.config ?? DEFAULT_CONFIG;
    let config: FlexnodeConfig | undefined;
    try {
      // A regular file only: reading a FIFO or a device would wait forever, or never end.
      if (!(await stat(configPath)).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
      config = JSON.parse(await readFile(configPath, 'utf8')) as FlexnodeConfig;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      notes.push({
        name: 'config',
        title: 'Config file',
        status: 'warn',
        // Not the parser's message: it quotes the text around the error, which may be a secret.
        detail:
          code === 'ENOENT'
            ? `${configPath} does not exist: the public cloud's endpoints are checked`
            : `${configPath} is ${code === 'ENOTFILE' ? 'not a regular file' : 'not readable JSON'}`,
        fix: code === 'ENOENT' ? 'pass --config FILE' : '`flexnode config validate` names the problem',
      });
    }
    let plan: { readings: PreflightReadings; targets: ReturnType<typeof preflightTargets>; skip: string[] };
    try {
      plan = doctorPlan(flags.root, config);
    } catch {
      // A field of the wrong type (an endpoint that is a number, say): what config validate is for.
      notes.push({
        name: 'config',
        title: 'Config file',
        status: 'fail',
        detail: `${configPath} does not validate`,
        fix: '`flexnode config validate` names the problem',
      });
      plan = doctorPlan(flags.root, undefined);
    }
    const report = await runPreflight(plan.readings, plan.targets, plan.skip);
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
    if (!report.ok || notes.some((n) => n.status === 'fail')) this.exit(1);
  }
}

/** What doctor checks for `config` (absent: the public cloud's endpoints, no proxy, nothing skipped). */
function doctorPlan(root: string, config: FlexnodeConfig | undefined) {
  const raw = config?.pluginConfig?.[PLUGIN_NAME] as { skipPreflight?: unknown } | undefined;
  if (raw?.skipPreflight !== undefined && !(Array.isArray(raw.skipPreflight) && raw.skipPreflight.every((s) => typeof s === 'string'))) {
    throw new TypeError('skipPreflight is not a list of names');
  }
  const skip = (raw?.skipPreflight as string[] | undefined) ?? [];
  const readings = machineReadings(rootView(root, kubePaths(config ?? ({} as FlexnodeConfig)).dropIn), effectiveProxy(config?.proxy));
  return { readings, targets: preflightTargets(config), skip };
}
