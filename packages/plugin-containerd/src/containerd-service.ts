import { checkService, drifted, missing, ok, type CheckResult, type FlexnodeConfig, type Host, runServiceWith, type StepInstance } from '@flexnode/sdk';
import { containerdEnvironmentFile, containerdUnit } from './containerd-unit.js';
import { Paths, UNIT } from './paths.js';

/**
 * Custom journal record: the sha256 of the unit, config and containerd binary the running daemon was
 * (re)started with. When one of them changes later, the daemon still runs the old one: the check reports
 * drift and install restarts it.
 */
export const STARTED_RECORD = 'containerd-started';

interface StartedWith {
  unit: string | null;
  environment: string | null;
  config: string | null;
  binary: string | null;
}

/** The operations of `containerd.service` (steps.ts). */
export function containerdServiceOps({ host, config }: { host: Host; config: FlexnodeConfig }): StepInstance {
  const unitText = containerdUnit();
  const environmentText = containerdEnvironmentFile(config);

  const fingerprint = async (): Promise<StartedWith> => ({
    unit: (await host.files.sha256(Paths.unit)) ?? null,
    environment: (await host.files.sha256(Paths.environmentFile)) ?? null,
    config: (await host.files.sha256(Paths.config)) ?? null,
    binary: (await host.files.sha256(`${Paths.binDir}/containerd`)) ?? null,
  });

  const check = async (): Promise<CheckResult> => {
    const current = await host.files.readText(Paths.unit);
    if (current === undefined) return missing(`${Paths.unit} is absent`);
    if (current !== unitText) return drifted(`${Paths.unit} differs from the expected unit`);
    const environment = await host.files.readText(Paths.environmentFile);
    if (environment === undefined) return missing(`${Paths.environmentFile} (the proxy environment) is absent`);
    if (environment !== environmentText) return drifted(`${Paths.environmentFile} differs from the config's proxy`);
    const state = await checkService(host, UNIT, await fingerprint(), STARTED_RECORD);
    if (state) return state;
    const answer = await ctrVersion(host);
    if (answer !== true) return drifted(`containerd does not answer on ${Paths.socket}: ${answer}`);
    return ok(`${UNIT} active, answering on ${Paths.socket}`);
  };

  return {
    check,
    install: async () => {
      if ((await check()).status === 'ok') return;
      await host.files.mkdir(Paths.unitDir);
      await host.files.mkdir(Paths.configDir);
      await host.files.write(Paths.environmentFile, environmentText, { mode: 0o600 });
      await host.files.write(Paths.unit, unitText, { mode: 0o644 });
      // Running already (a package's postinst started it, or we did with an older config): it is restarted.
      await runServiceWith(host, UNIT, await fingerprint(), STARTED_RECORD);
    },
    uninstall: async () => {
      // Newest first: stop (if we started it), disable (if we enabled it), then remove or restore the unit.
      await host.changes.revert();
      await host.changes.forget(STARTED_RECORD);
      if (await host.systemd.available()) await host.systemd.daemonReload();
    },
  };
}

/** true when `ctr version` reaches the daemon, else the reason. Read-only, so it runs in a dry run too. */
async function ctrVersion(host: Host): Promise<true | string> {
  try {
    const result = await host.exec.run('ctr', ['--address', Paths.socket, 'version'], {
      mutates: false,
      allowFailure: true,
      timeoutMs: 10_000,
    });
    if (result.exitCode === 0) return true;
    return (result.stderr.trim().split('\n').pop() ?? '') || `ctr exited with code ${result.exitCode}`;
  } catch (error) {
    return (error as Error).message;
  }
}
