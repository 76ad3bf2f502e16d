import { drifted, missing, ok, type CheckResult, type Host, type FlexnodeConfig, type StepInstance } from '@flexnode/sdk';
import { runcArtifact } from './components.js';
import { Paths } from './paths.js';

/** The operations of `runc.binary` (steps.ts). */
export function runcBinaryOps({ host, config }: { host: Host; config: FlexnodeConfig }): StepInstance {
  const check = async (): Promise<CheckResult> => {
    const artifact = runcArtifact(config, host.arch);
    const actual = await host.files.sha256(Paths.runc);
    if (actual === undefined) return missing(`${Paths.runc} is absent`);
    if (actual !== artifact.sha256) {
      return drifted(`${Paths.runc} has sha256 ${actual}, not the ${artifact.sha256} of ${artifact.name}`);
    }
    const mode = (await host.files.stat(Paths.runc))?.mode ?? 0;
    if ((mode & 0o777) !== 0o755) return drifted(`${Paths.runc} has mode ${(mode & 0o777).toString(8)}, expected 755`);
    return ok(artifact.name);
  };
  return {
    check,
    install: async () => {
      // Idempotent without a second download: nothing to do when the right binary is in place.
      if ((await check()).status === 'ok') return;
      const artifact = runcArtifact(config, host.arch);
      const downloaded = await host.downloads.fetch(artifact);
      if (host.dryRun) {
        host.log.info(`would install ${artifact.name} as ${Paths.runc}`);
        return;
      }
      await host.files.mkdir(Paths.binDir);
      await host.files.copyFrom(downloaded, Paths.runc, { mode: 0o755 });
    },
    uninstall: () => host.changes.revert(),
  };
}
