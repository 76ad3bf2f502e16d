import { findRecord, missing, ok, replaceRecord, type AzureContext, type CheckResult, type FlexnodeConfig, type Host, type StepInstance } from '@flexnode/sdk';
import { kubeRelease } from '../binaries/artifacts.js';
import { kubernetesVersion } from '../binaries/step.js';
import { defaultClusterReader, type ClusterFacts, type ClusterReader } from '../cluster/cluster.js';
import { clusterFacts, FACTS_RECORD, rememberFacts } from '../cluster/recorded.js';
import { apiRequest, isUnreachable } from '../kubelet/api.js';
import { messageOf } from '../util.js';
import { configuredVersion } from '../version.js';
import { assertSupportedSkew } from './skew.js';

/** Custom record: the kubelet version checked, the API server's version and where it was read. */
export const SKEW_RECORD = 'version-skew';

interface SkewRecord {
  kubelet: string;
  apiServer: string;
  from: string;
}

/** The API server's version, and where it was read; undefined when it cannot be read from here. */
export type ServerVersionReader = (facts: ClusterFacts, host: Host) => Promise<{ version: string; from: string } | undefined>;

/**
 * `GET <server>/version`, anonymous (readable by everyone through the `system:public-info-viewer` ClusterRole), over
 * HTTPS trusting only the cluster CA. Before the join the node has no identity the API server knows, so a server
 * that answers 401/403 or cannot be reached gives undefined and the caller falls back to ARM's version.
 */
export const readServerVersion: ServerVersionReader = async (facts, host) => {
  try {
    const answer = await apiRequest({ server: facts.server, caPem: facts.caPem, timeoutMs: 10_000 }, 'GET', '/version');
    if (answer.status === 200 && typeof answer.body.gitVersion === 'string') return { version: answer.body.gitVersion, from: `GET ${facts.server}/version` };
    host.log.info(`GET ${facts.server}/version answered HTTP ${answer.status}`);
  } catch (error) {
    if (!isUnreachable(error)) throw error;
    host.log.info(`the API server ${facts.server} is not reachable from here (${messageOf(error)})`);
  }
  return undefined;
};

/** What tests inject into `kube.version` (steps.ts). */
export interface VersionSkewOptions {
  readCluster?: ClusterReader;
  serverVersion?: ServerVersionReader;
}

/**
 * The operations of `kube.version` (steps.ts): the kubelet version against the API server's (or ARM's) by the
 * version skew policy, and its release verifiable; the versions checked are recorded.
 */
export function versionSkewOps(
  { host, config, azure }: { host: Host; config: FlexnodeConfig; azure: AzureContext },
  options: VersionSkewOptions = {},
): StepInstance {
  const readCluster = options.readCluster ?? defaultClusterReader;
  const serverVersion = options.serverVersion ?? readServerVersion;
  const check = async (): Promise<CheckResult> => {
    const record = findRecord<SkewRecord>(host, SKEW_RECORD);
    const configured = configuredVersion(config);
    if (!record) return missing('the kubelet version is not checked against the API server yet');
    if (configured && configured !== record.kubelet) return missing(`kubernetes.version is now ${configured}; ${record.kubelet} was checked`);
    return ok(`kubelet ${record.kubelet}, API server ${record.apiServer} (${record.from})`);
  };
  return {
    check,
    async install() {
      if ((await check()).status === 'ok') return;
      const facts = await clusterFacts(host, config, azure, readCluster, 'kube.version');
      const kubelet = await kubernetesVersion(host, config, azure, async () => facts, 'kube.version');
      const origin = configuredVersion(config) ? 'kubernetes.version' : "the cluster's version";
      let server = await serverVersion(facts, host);
      if (!server) {
        server = {
          version: facts.kubernetesVersion ?? 'unknown',
          from: 'the control plane version ARM reports, the API server being unreachable from here',
        };
        host.log.warn(`checking kubelet ${kubelet} against ${server.from} (${server.version})`);
      }
      // Only a cluster that reports no version at all (ARM always does) goes unchecked, and says so.
      if (server.version === 'unknown') host.log.warn(`the cluster reports no version: kubelet ${kubelet} is not checked against it`);
      else assertSupportedSkew(kubelet, server.version, origin, server.from);
      // A release nothing can verify is refused here too, before any step changes anything.
      kubeRelease(config, host.arch, kubelet);
      await rememberFacts(host, facts);
      await replaceRecord(host, SKEW_RECORD, { kubelet, apiServer: server.version.replace(/^v/, ''), from: server.from });
    },
    async uninstall() {
      await host.changes.revert();
      await host.changes.forget(SKEW_RECORD);
      await host.changes.forget(FACTS_RECORD);
    },
  };
}
