import { Flags } from '@oclif/core';
import { agentFlags, listPluginSources, runAgent, type AgentFlagSpec } from '@flexnode/core/agent';
import { FlexnodeCommand } from '../base/command.js';

// oclif flags from core's one definition of the agent's flags (bin/run.js parses the same ones without oclif).
const spec = agentFlags;
const shown = (f: AgentFlagSpec) => ({ summary: f.summary, hidden: 'hidden' in f ? f.hidden : undefined, env: 'env' in f ? f.env : undefined });

/** Run the agent in the foreground (systemd's flexnode-agent.service runs this). */
export default class Agent extends FlexnodeCommand {
  static override enableJsonFlag = false;
  static override summary = 'Bootstrap this machine, then keep it healthy: check every interval and heal only what drifted.';
  static override description = [
    'Runs in the foreground, as flexnode-agent.service does (Type=notify: READY after the first bootstrap, WATCHDOG while cycles progress).',
    'Every agent.intervalSeconds (default 60) it runs every check, logs each drift and re-runs the install of the drifted step alone (and checks what depends on it);',
    'a heal that fails backs off exponentially, and a step that fails 5 times in a row is reported failing and retried every 30 minutes.',
    'The first bootstrap and each heal run in a short-lived worker process, so the agent itself stays small.',
    'It holds the run lock only during a cycle: `flexnode status` works at any time, and `flexnode bootstrap` by hand between cycles (during a cycle it is refused with exit 3; run it again).',
    'SIGTERM/SIGINT stop it after the step in progress; SIGHUP reloads the config (an invalid one is logged and the old one kept).',
    'What it saw is in /var/lib/flexnode/status.json, which `flexnode status` shows while the agent runs.',
  ].join(' ');
  static override examples = ['<%= config.bin %> agent --config /etc/aks-flex-node/config.json', 'systemctl enable --now flexnode-agent'];
  static override baseFlags = {
    config: Flags.string({ ...shown(spec.config), char: spec.config.char }),
    root: Flags.string({ ...shown(spec.root), default: spec.root.default }),
  };
  static override flags = {
    only: Flags.string({ ...shown(spec.only), multiple: true, delimiter: spec.only.delimiter }),
    json: Flags.boolean({ ...shown(spec.json) }),
    'interval-ms': Flags.integer({ ...shown(spec['interval-ms']), min: spec['interval-ms'].min }),
    'max-cycles': Flags.integer({ ...shown(spec['max-cycles']), min: spec['max-cycles'].min }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Agent);
    // The same plugin listing as bin/run.js's fast path (not oclif's Config), so both agents see the same plugins.
    const sources = await listPluginSources({ cliRoot: this.config.root, dataDir: this.config.dataDir });
    const code = await runAgent(flags, sources);
    if (code !== 0) this.exit(code);
  }
}
