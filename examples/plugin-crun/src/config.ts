import { checkParsedFile, Cni, ContainerRuntime, defineStep, ok, Tokens, type CheckResult, type CniService, type FlexnodeConfig } from '@flexnode/sdk';
import { Paths, RUNTIME_HANDLER } from './paths.js';
import { crunSettings } from './settings.js';

/** A containerd config as a plain object (the TOML document before rendering). */
export type ContainerdConfigDocument = Record<string, unknown>;

/** The CRI plugin's id in a version 2 config (containerd 1.6 and 1.7). */
const CRI_PLUGIN = 'io.containerd.grpc.v1.cri';
/** The opt plugin, which makes a directory for installed binaries and libraries when containerd starts. */
const OPT_PLUGIN = 'io.containerd.internal.v1.opt';

/**
 * /etc/containerd/config.toml for crun: a `version = 2` document whose CRI plugin runs every pod with the
 * `io.containerd.runc.v2` shim driving /usr/bin/crun (crun takes runc's command line) with the systemd cgroup
 * driver, as the default runtime; the sandbox image; and the chosen CNI's directories (the `cni` service).
 */
export function crunContainerdConfig(config: FlexnodeConfig, cni: CniService): ContainerdConfigDocument {
  const settings = crunSettings(config);
  return {
    version: 2,
    plugins: {
      [CRI_PLUGIN]: {
        sandbox_image: settings.pauseImage,
        // Pods ask for OOM scores below containerd's own; a node without CAP_SYS_RESOURCE (a node in a container)
        // cannot grant them, and containerd then keeps them at its own instead.
        restrict_oom_score_adj: settings.restrictOOMScoreAdj,
        containerd: {
          default_runtime_name: RUNTIME_HANDLER,
          runtimes: {
            [RUNTIME_HANDLER]: { runtime_type: 'io.containerd.runc.v2', options: { BinaryName: Paths.crun, SystemdCgroup: true } },
          },
        },
        cni: { bin_dir: cni.binDir, conf_dir: cni.confDir },
        registry: { config_path: Paths.certsDir },
      },
      // containerd's default (/opt/containerd) would leave a directory outside its state behind; the package's own
      // config keeps it in /var/lib/containerd too.
      [OPT_PLUGIN]: { path: Paths.optDir },
    },
  };
}

const HEADER = `# Written by flexnode (@org/plugin-crun, step crun.config): containerd runs pods with crun.
# Edits here are reported as drift and replaced.
`;

// The TOML library loads when a config is read or written, not when the plugin loads (CLI start-up).
const toml = () => import('smol-toml');

/** The document as TOML (smol-toml escapes every value), with a header saying who owns the file. */
export async function renderConfig(doc: ContainerdConfigDocument): Promise<string> {
  return `${HEADER}\n${(await toml()).stringify(doc)}\n`;
}

/**
 * `crun.config`: containerd's config.toml, replacing the one the package ships (journaled: uninstall puts the
 * package's back, and the package's purge removes it). The check compares the parsed file with the expected
 * document, so formatting does not matter but every value does.
 */
export const crunConfig = defineStep({
  id: 'crun.config',
  title: 'containerd config with crun as the runtime (/etc/containerd/config.toml)',
  provides: [ContainerRuntime],
  after: ['crun.packages'],
  inject: { host: Tokens.Host, config: Tokens.Config, cni: Cni },
  create: ({ host, config, cni }) => {
    const expected = crunContainerdConfig(config, cni);
    const check = async (): Promise<CheckResult> => {
      const result = await checkParsedFile(host, Paths.config, expected, async (text) => (await toml()).parse(text));
      return result.status === 'ok' ? ok(`runtime ${RUNTIME_HANDLER} (${Paths.crun})`) : result;
    };
    return {
      check,
      install: async () => {
        if ((await check()).status === 'ok') return;
        await host.files.mkdir(Paths.configDir);
        await host.files.write(Paths.config, await renderConfig(expected), { mode: 0o644 });
      },
      uninstall: () => host.changes.revert(),
    };
  },
});
