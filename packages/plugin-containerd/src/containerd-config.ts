import { checkParsedFile, type CheckResult, type CniService, type FlexnodeConfig, type Host, type StepInstance } from '@flexnode/sdk';
import { Paths } from './paths.js';

export { DEFAULT_PAUSE_IMAGE, sandboxImage } from './pause-image.js';
import { sandboxImage } from './pause-image.js';

/** The CRI plugin's id in a version 2 config (containerd 1.6 and 1.7; 2.x migrates it on load). */
export const CRI_PLUGIN = 'io.containerd.grpc.v1.cri';

/** The opt plugin, which creates a directory for installed binaries/libraries at start. */
export const OPT_PLUGIN = 'io.containerd.internal.v1.opt';
export const OPT_PATH = '/var/lib/containerd/opt';

/** A containerd config as a plain object (the TOML document before rendering). */
export type ContainerdConfigDocument = Record<string, unknown>;

/**
 * The semantic content of /etc/containerd/config.toml for this config: a `version = 2` document (read by
 * containerd 1.6, 1.7 and 2.x) with the CRI plugin's sandbox image, the runc v2 runtime with the systemd
 * cgroup driver (the kubelet runs with `--cgroup-driver=systemd`), the chosen CNI's directories, the registry hosts
 * directory, the metrics listener when configured, and imports of /etc/containerd/conf.d/*.toml so local
 * additions live in their own files instead of being reported as drift.
 */
export function containerdConfigDocument(config: FlexnodeConfig, cni: CniService): ContainerdConfigDocument {
  const cri: Record<string, unknown> = {
    sandbox_image: sandboxImage(config),
    containerd: {
      default_runtime_name: 'runc',
      runtimes: {
        runc: { runtime_type: 'io.containerd.runc.v2', options: { SystemdCgroup: true } },
      },
    },
    // Where the chosen pod network (the `cni` capability's provider) keeps its plugins and config.
    cni: { bin_dir: cni.binDir, conf_dir: cni.confDir },
    registry: { config_path: Paths.certsDir },
  };
  const doc: ContainerdConfigDocument = {
    version: 2,
    imports: [Paths.configDropIns],
    plugins: {
      [CRI_PLUGIN]: cri,
      // containerd's default (/opt/containerd) would leave a directory outside its state dir behind; keep it in.
      [OPT_PLUGIN]: { path: OPT_PATH },
    },
  };
  if (config.containerd?.metricsAddress) doc['metrics'] = { address: config.containerd.metricsAddress };
  return doc;
}

const HEADER = `# Written by flexnode (step containerd.config). Edits here are reported as drift and replaced:
# put local additions in ${Paths.configDropIns}, which this file imports.
`;

// The TOML library loads when a config is read or written, not when the plugin loads (CLI start-up).
const toml = () => import('smol-toml');

/** Render a config document as TOML (smol-toml), with a header saying who owns the file. */
export async function renderContainerdConfig(doc: ContainerdConfigDocument): Promise<string> {
  return `${HEADER}\n${(await toml()).stringify(doc)}\n`;
}

/** The operations of `containerd.config` (steps.ts). */
export function containerdConfigOps({ host, config, cni }: { host: Host; config: FlexnodeConfig; cni: CniService }): StepInstance {
  const expected = containerdConfigDocument(config, cni);
  const check = async (): Promise<CheckResult> => checkParsedFile(host, Paths.config, expected, async (text) => (await toml()).parse(text));
  return {
    check,
    install: async () => {
      if ((await check()).status === 'ok') return;
      await host.files.mkdir(Paths.configDir);
      // containerd's CRI plugin creates its CNI conf_dir at start when it is absent (cni_conf_syncer.go), and
      // then it would outlive unbootstrap: created here, it is flexnode's and goes with the rest.
      await host.files.mkdir(cni.confDir);
      await host.files.write(Paths.config, await renderContainerdConfig(expected), { mode: 0o644 });
    },
    uninstall: () => host.changes.revert(),
  };
}
