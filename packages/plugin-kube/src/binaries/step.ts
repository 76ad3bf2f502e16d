import {
  capabilityToken,
  ConfigError,
  defineStep,
  drifted,
  missing,
  ok,
  Tokens,
  type AzureContext,
  type CheckResult,
  type FlexnodeConfig,
  type Host,
  type StepDefinition,
} from '@flexnode/sdk';
import { defaultClusterReader, type ClusterReader } from '../cluster/cluster.js';
import { kubePaths } from '../paths.js';
import { kubeArtifact, normalizeVersion } from './artifacts.js';
import { KUBE_BINARIES } from './versions.js';

const FULL_VERSION = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/** `kubernetes.version`, else the version the cluster's control plane runs (read with arm-containerservice). */
export async function kubernetesVersion(config: FlexnodeConfig, azure: AzureContext | undefined, readCluster: ClusterReader): Promise<string> {
  if (config.kubernetes?.version) return normalizeVersion(config.kubernetes.version);
  const facts = await readCluster(azure, config);
  const v = facts.kubernetesVersion ? normalizeVersion(facts.kubernetesVersion) : undefined;
  if (!v || !FULL_VERSION.test(v)) {
    throw new ConfigError(`the cluster ${facts.name} reports Kubernetes version "${v ?? '(none)'}", not major.minor.patch: set kubernetes.version`, [
      { path: 'kubernetes.version', message: 'required when the cluster does not report a full version' },
    ]);
  }
  return v;
}

/**
 * `kubernetes.version` for a mirror: without a node there is no cluster to ask (see {@link kubernetesVersion}),
 * so the version must be in the config.
 */
export function pinnedVersion(config: FlexnodeConfig): string {
  if (config.kubernetes?.version) return normalizeVersion(config.kubernetes.version);
  throw new ConfigError('kubernetes.version is not set: mirroring the Kubernetes binaries needs the version the nodes will run', [
    { path: 'kubernetes.version', message: 'required to mirror the Kubernetes binaries (a node would ask the cluster; a mirror cannot)' },
  ]);
}

/**
 * `kube.binaries`: kubelet, kubectl and kubeadm from the Kubernetes release (`https://dl.k8s.io/v<v>/bin/linux/<arch>/<bin>`,
 * or `artifacts.mirror`), each sha256-verified while streaming against the pinned table or `kubernetes.sha256`, to
 * /usr/local/bin mode 0755. The check hashes the installed files, so a replaced binary shows as drift.
 */
export function createBinariesStep(readCluster: ClusterReader = defaultClusterReader): StepDefinition {
  return defineStep({
    id: 'kube.binaries',
    title: 'kubelet, kubectl and kubeadm binaries (/usr/local/bin)',
    after: ['kube.preflight'],
    artifacts: (config, arch) => KUBE_BINARIES.map((bin) => kubeArtifact(config, pinnedVersion(config), arch, bin)),
    inject: [Tokens.Host, Tokens.Config, capabilityToken('azure-credential')],
    create: (host: Host, config: FlexnodeConfig, azure: AzureContext | undefined) => {
      const { binDir } = kubePaths(config);
      const artifacts = async () => {
        const version = await kubernetesVersion(config, azure, readCluster);
        return { version, list: KUBE_BINARIES.map((bin) => ({ bin, path: `${binDir}/${bin}`, artifact: kubeArtifact(config, version, host.arch, bin) })) };
      };
      const stateOf = async (entry: Awaited<ReturnType<typeof artifacts>>['list'][number]): Promise<CheckResult> => {
        const actual = await host.files.sha256(entry.path);
        if (actual === undefined) return missing(`${entry.path} is absent`);
        if (actual !== entry.artifact.sha256) return drifted(`${entry.path} has sha256 ${actual}, not the ${entry.artifact.sha256} of ${entry.artifact.name}`);
        const mode = ((await host.files.stat(entry.path))?.mode ?? 0) & 0o777;
        if (mode !== 0o755) return drifted(`${entry.path} has mode ${mode.toString(8)}, expected 755`);
        return ok();
      };
      const check = async (): Promise<CheckResult> => {
        const { version, list } = await artifacts();
        for (const entry of list) {
          const state = await stateOf(entry);
          if (state.status !== 'ok') return state;
        }
        return ok(`Kubernetes ${version} (${host.arch})`);
      };
      return {
        check,
        async install() {
          const { list } = await artifacts();
          for (const entry of list) {
            if ((await stateOf(entry)).status === 'ok') continue;
            const downloaded = await host.downloads.fetch(entry.artifact);
            if (host.dryRun) {
              host.log.info(`would install ${entry.artifact.name} as ${entry.path}`);
              continue;
            }
            await host.files.mkdir(binDir);
            await host.files.copyFrom(downloaded, entry.path, { mode: 0o755 });
          }
        },
        uninstall: () => host.changes.revert(),
      };
    },
  });
}

export const kubeBinaries = createBinariesStep();
