import { Flags } from '@oclif/core';
import { FlexnodeCommand } from '../base/command.js';
import { onlyFlag } from '../base/flags.js';

/** Run the agent in the foreground (systemd's flexnode-agent.service runs this). */
export default class Agent extends FlexnodeCommand {
  static override enableJsonFlag = false;
  static override summary = 'Bootstrap this machine, then keep it healthy: check every interval and heal only what drifted.';
  static override description = [
    'Runs in the foreground, as flexnode-agent.service does (Type=notify: READY after the first bootstrap, WATCHDOG while cycles progress).',
    'Every agent.intervalSeconds (default 60) it runs every check, logs each drift and re-runs the install of the drifted step alone (and checks what depends on it);',
    'a heal that fails backs off exponentially, and a step that fails 5 times in a row is reported failing and retried every 30 minutes.',
    'It holds the run lock only during a cycle: `flexnode status` works at any time, and `flexnode bootstrap` by hand between cycles (during a cycle it is refused with exit 3; run it again).',
    'SIGTERM/SIGINT stop it after the step in progress; SIGHUP reloads the config (an invalid one is logged and the old one kept).',
    'What it saw is in /var/lib/flexnode/status.json, which `flexnode status` shows while the agent runs.',
  ].join(' ');
  static override examples = ['<%= config.bin %> agent --config /etc/aks-flex-node/config.json', 'systemctl enable --now flexnode-agent'];
  static override flags = {
    only: onlyFlag,
    'interval-ms': Flags.integer({ hidden: true, summary: 'Override agent.intervalSeconds in milliseconds (tests, benches).', min: 10 }),
    'max-cycles': Flags.integer({ hidden: true, summary: 'Stop after this many check cycles (tests, benches).', min: 0 }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Agent);
    const { Agent: Runner } = await import('@flexnode/core/agent');
    const agent = new Runner({
      configPath: flags.config ?? '/etc/aks-flex-node/config.json',
      root: flags.root,
      sources: this.pluginSources(),
      only: flags.only,
      intervalMs: flags['interval-ms'],
      maxCycles: flags['max-cycles'],
    });
    const code = await agent.run();
    if (code !== 0) this.exit(code);
  }
}
