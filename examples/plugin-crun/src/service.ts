import { checkService, ContainerRuntime, defineService, defineStep, drifted, ok, runServiceWith, Tokens, type CheckResult, type Host } from '@flexnode/sdk';
import { Paths, UNIT } from './paths.js';

/** Custom journal record: what containerd was last (re)started with, so a changed config means a restart. */
export const STARTED_RECORD = 'crun-containerd-started';

/**
 * `crun.service`: containerd.service (the package's unit) enabled and running with the current config, containerd
 * and crun. The package's postinst starts it with its own config: the first install restarts it with this one.
 * Check, where a service manager runs: enabled, active, started with the current inputs, answering on its socket.
 */
export const crunService = defineStep({
  id: 'crun.service',
  title: 'containerd service running crun',
  provides: [ContainerRuntime],
  after: ['crun.config'],
  inject: { host: Tokens.Host },
  create: ({ host }) => {
    const inputs = async () => ({
      config: (await host.files.sha256(Paths.config)) ?? null,
      containerd: (await host.files.sha256(Paths.containerd)) ?? null,
      crun: (await host.files.sha256(Paths.crun)) ?? null,
    });
    const check = async (): Promise<CheckResult> => {
      const state = await checkService(host, UNIT, await inputs(), STARTED_RECORD);
      if (state) return state;
      const answer = await ctrVersion(host);
      return answer === true ? ok(`${UNIT} active, answering on ${Paths.socket}`) : drifted(`containerd does not answer on ${Paths.socket}: ${answer}`);
    };
    return {
      check,
      install: async () => {
        if ((await check()).status === 'ok') return;
        await runServiceWith(host, UNIT, await inputs(), STARTED_RECORD);
      },
      uninstall: async () => {
        // What this step changed (enablement, a start) goes back; stopping and removing containerd is the
        // packages' uninstall (their purge).
        await host.changes.revert();
        await host.changes.forget(STARTED_RECORD);
      },
    };
  },
});

/** true when `ctr version` reaches the daemon, else why not. Read-only, so it runs in a dry run too. */
async function ctrVersion(host: Host): Promise<true | string> {
  const result = await host.exec
    .run('ctr', ['--address', Paths.socket, 'version'], { mutates: false, allowFailure: true, timeoutMs: 10_000 })
    .catch((error: Error) => error);
  if (result instanceof Error) return result.message;
  return result.exitCode === 0 ? true : (result.stderr.trim().split('\n').pop() ?? '') || `ctr exited with code ${result.exitCode}`;
}

/** What the kubelet needs to know of this runtime: containerd's CRI socket and unit; cgroups through systemd. */
export const crunRuntimeService = defineService({
  capability: ContainerRuntime,
  create: () => ({ criEndpoint: `unix://${Paths.socket}`, unit: UNIT, cgroupDriver: 'systemd' as const }),
});
