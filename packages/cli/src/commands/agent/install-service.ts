import { Flags } from '@oclif/core';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ExitCode, FlexnodeError, pathProblem, underRoot, unitCommandLine, unitEnvironment } from '@flexnode/sdk';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { FlexnodeCommand } from '../../base/command.js';

/** The unit shipped in the package (packages/cli/assets), found from the package root: this code also runs bundled from lib/. */
export const UNIT_ASSET = join(dirname(createRequire(import.meta.url).resolve('@flexnode/cli/package.json')), 'assets/flexnode-agent.service');
export const UNIT_NAME = 'flexnode-agent.service';

/** The shipped unit with ExecStart and the config path adjusted, both written through the SDK's systemd escaping. */
export function renderUnit(template: string, options: { bin: string; config: string }): string {
  const execStart = `ExecStart=${unitCommandLine({ command: [options.bin, 'agent'] })}`;
  const environment = `Environment=${unitEnvironment({ FLEXNODE_CONFIG: options.config })}`;
  return template.replace(/^ExecStart=\S+ agent$/m, () => execStart).replace(/^Environment=FLEXNODE_CONFIG=.*$/m, () => environment);
}

/** A path flag that reaches the unit or the file system: absolute and normalised, else exit 2 naming the flag. */
function checkedPath(flag: string, value: string): string {
  const problem = pathProblem(value);
  if (problem) throw new FlexnodeError('FLAG_INVALID', `--${flag}: ${problem}`, { exitCode: ExitCode.Usage });
  return value;
}

/**
 * Writes flexnode-agent.service and reloads systemd. This is part of installing flexnode itself (like
 * install.sh), not of bootstrapping the node, so it is written directly (atomically, 0644) and not journaled:
 * `flexnode unbootstrap` leaves it, scripts/uninstall.sh (or `rm` + daemon-reload) removes it.
 */
export default class InstallService extends FlexnodeCommand {
  static override summary = 'Install the systemd unit flexnode-agent.service (then: systemctl enable --now flexnode-agent).';
  static override flags = {
    bin: Flags.string({ summary: 'The flexnode executable the unit runs.', default: '/usr/local/bin/flexnode' }),
    'unit-dir': Flags.string({ summary: 'Where to write the unit (under --root).', default: '/etc/systemd/system' }),
    enable: Flags.boolean({ summary: 'Also `systemctl enable --now` it.' }),
  };

  async run(): Promise<{ path: string; reloaded: boolean; enabled: boolean }> {
    const { flags } = await this.parse(InstallService);
    const { writeFileAtomic } = await import('@flexnode/core');
    // A relative --config means the file from here; the unit needs it absolute.
    const config = checkedPath('config', resolve(flags.config ?? '/etc/aks-flex-node/config.json'));
    const unit = renderUnit(await readFile(UNIT_ASSET, 'utf8'), { bin: checkedPath('bin', flags.bin), config });
    const path = underRoot(flags.root, `${checkedPath('unit-dir', flags['unit-dir'])}/${UNIT_NAME}`);
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    await writeFileAtomic(path, unit, { mode: 0o644 });
    // systemctl only on the real machine with a running systemd (not for --root sandboxes or image builds).
    const live = flags.root === '/' && existsSync('/run/systemd/system');
    const run = promisify(execFile);
    if (live) await run('systemctl', ['daemon-reload']);
    if (live && flags.enable) await run('systemctl', ['enable', '--now', UNIT_NAME]);
    if (!this.jsonEnabled()) {
      this.log(`wrote ${path}`);
      if (!live) this.log('no running systemd here (or --root given): daemon-reload skipped');
      else if (!flags.enable) this.log(`next: systemctl enable --now ${UNIT_NAME}`);
    }
    return { path, reloaded: live, enabled: live && flags.enable };
  }
}
