import { checkParsedFile, Cni, ContainerRuntime, defineStep, Tokens, type CheckResult, type CniService, type FlexnodeConfig } from '@flexnode/sdk';
import { Paths } from './paths.js';

/**
 * The sandbox (pause) image of AKS's nodes: AgentBaker's current default (e2e/node_config.go
 * PodInfraContainerImageURL, since Aug 2026; 3.6 before, upstream's flex node 3.9). `containerd.pauseImage` overrides it.
 */
export const DEFAULT_PAUSE_IMAGE = 'mcr.microsoft.com/oss/v2/kubernetes/pause:3.10.2';

/** The sandbox image of this config: `containerd.pauseImage`, else {@link DEFAULT_PAUSE_IMAGE}. */
export const sandboxImage = (config: FlexnodeConfig): string => config.containerd?.pauseImage ?? DEFAULT_PAUSE_IMAGE;

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

/**
 * `containerd.config`: /etc/containerd/config.toml. The check parses the file and compares its semantic
 * content with the expected document, so formatting does not matter but any changed value does.
 */
export const containerdConfig = defineStep({
  id: 'containerd.config',
  title: 'containerd config (/etc/containerd/config.toml)',
  // After the binaries (or the apt packages, whose postinst may ship a default config.toml).
  provides: [ContainerRuntime],
  after: ['containerd.binaries', 'containerd.packages'],
  inject: { host: Tokens.Host, config: Tokens.Config, cni: Cni },
  create: ({ host, config, cni }) => {
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
  },
});
