import {
  checkService,
  Cni,
  ContainerRuntime,
  defineService,
  defineStep,
  drifted,
  FlexnodeError,
  missing,
  ok,
  runServiceWith,
  Tokens,
  type CheckResult,
  type CniService,
  type FlexnodeConfig,
} from '@flexnode/sdk';
import { Paths, UNIT } from './paths.js';
import { crioSettings } from './settings.js';
import { renderTables } from './toml.js';

/**
 * `crio.installed`: CRI-O is on the machine. Installing it is left to the distribution (its own packages or
 * Kubernetes' cri-o repositories, whose version must match the cluster's minor): this step checks, and its install
 * says what to do instead of doing it. A full plugin would install the packages here (`host.apt.install`).
 */
export const crioInstalled = defineStep({
  id: 'crio.installed',
  title: 'CRI-O installed by the distribution',
  provides: [ContainerRuntime],
  inject: { host: Tokens.Host },
  create: ({ host }) => {
    const check = async (): Promise<CheckResult> =>
      (await host.files.stat(Paths.crio))?.type === 'file' ? ok(Paths.crio) : missing(`${Paths.crio} is absent`);
    return {
      check,
      install: async () => {
        if ((await check()).status === 'ok') return;
        throw new FlexnodeError('CRIO_NOT_INSTALLED', `CRI-O is not installed (${Paths.crio} is absent)`, {
          hint: "install cri-o from your distribution, in the version of the cluster's Kubernetes minor (https://github.com/cri-o/packaging), then run bootstrap again",
        });
      },
      uninstall: async () => {
        // Nothing was installed: the distribution's package stays.
      },
    };
  },
});

/** The drop-in: the systemd cgroup manager (as the kubelet's), the sandbox image, the runtime, the CNI's dirs. */
export function crioDropIn(config: FlexnodeConfig, cni: CniService): string {
  const settings = crioSettings(config);
  return `# Written by flexnode (@org/plugin-crio-config, step crio.config). Edits here are reported as drift.\n\n${renderTables({
    'crio.runtime': { cgroup_manager: 'systemd', conmon_cgroup: 'pod', default_runtime: settings.defaultRuntime },
    'crio.image': { pause_image: settings.pauseImage },
    'crio.network': { network_dir: cni.confDir, plugin_dirs: [cni.binDir] },
  })}`;
}

/** `crio.config`: the drop-in in /etc/crio/crio.conf.d (the packages' crio.conf stays as shipped). */
export const crioConfig = defineStep({
  id: 'crio.config',
  title: 'CRI-O drop-in (/etc/crio/crio.conf.d/10-flexnode.conf)',
  provides: [ContainerRuntime],
  after: ['crio.installed'],
  inject: { host: Tokens.Host, config: Tokens.Config, cni: Cni },
  create: ({ host, config, cni }) => {
    const wanted = crioDropIn(config, cni);
    const check = async (): Promise<CheckResult> => {
      const text = await host.files.readText(Paths.dropIn);
      if (text === undefined) return missing(`${Paths.dropIn} is absent`);
      return text === wanted ? ok() : drifted(`${Paths.dropIn} differs from the expected drop-in`);
    };
    return {
      check,
      install: async () => {
        if ((await check()).status === 'ok') return;
        await host.files.mkdir(Paths.dropInDir);
        await host.files.write(Paths.dropIn, wanted, { mode: 0o644 });
      },
      uninstall: () => host.changes.revert(),
    };
  },
});

/** Custom journal record: the inputs CRI-O was last (re)started with. */
export const STARTED_RECORD = 'crio-started';

/** `crio.service`: crio.service enabled and running with the current drop-in. */
export const crioService = defineStep({
  id: 'crio.service',
  title: 'CRI-O service',
  provides: [ContainerRuntime],
  after: ['crio.config'],
  inject: { host: Tokens.Host },
  create: ({ host }) => {
    const inputs = async () => ({ dropIn: (await host.files.sha256(Paths.dropIn)) ?? null, crio: (await host.files.sha256(Paths.crio)) ?? null });
    const check = async (): Promise<CheckResult> => {
      const state = await checkService(host, UNIT, await inputs(), STARTED_RECORD);
      if (state) return state;
      return (await host.files.stat(Paths.socket)) ? ok(`${UNIT} active on ${Paths.socket}`) : drifted(`${Paths.socket} is absent`);
    };
    return {
      check,
      install: async () => {
        if ((await check()).status === 'ok') return;
        await runServiceWith(host, UNIT, await inputs(), STARTED_RECORD);
      },
      uninstall: async () => {
        await host.changes.revert();
        await host.changes.forget(STARTED_RECORD);
      },
    };
  },
});

/** The container-runtime service: CRI-O's socket and unit, cgroups through systemd. */
export const crioRuntimeService = defineService({
  capability: ContainerRuntime,
  create: () => ({ criEndpoint: `unix://${Paths.socket}`, unit: UNIT, cgroupDriver: 'systemd' as const }),
});
