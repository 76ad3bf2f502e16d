import {
  ConfigError,
  drifted,
  findRecord,
  missing,
  ok,
  replaceRecord,
  type AzureContext,
  type CheckResult,
  type FlexnodeConfig,
  type Host,
  type NodeIdentity,
  type StepInstance,
} from '@flexnode/sdk';
import { kubeletAuth, type KubeletAuth } from '../auth.js';
import { kubePaths } from '../paths.js';
import { kubeSettings } from '../settings.js';
import { assertAzureRbac, defaultClusterReader, type ClusterReader } from './cluster.js';
import { renderKubeconfig } from './kubeconfig.js';
import { clusterFacts, FACTS_RECORD, rememberFacts } from './recorded.js';

/** What `kube.cluster-credentials` (steps.ts) is given. */
export interface CredentialsDeps {
  host: Host;
  config: FlexnodeConfig;
  azure: AzureContext;
  identity: NodeIdentity;
}

/**
 * The operations of `kube.cluster-credentials` (steps.ts): the cluster CA and, in arc-msi mode, the kubelet's
 * kubeconfig, from the facts the operator's credential reads once (recorded).
 */
export function credentialsOps({ host, config, azure, identity }: CredentialsDeps, readCluster: ClusterReader = defaultClusterReader): StepInstance {
  const paths = kubePaths(config);
  const arcMsi = kubeletAuth(config) === 'arc-msi';
  const expected = async () => {
    const facts = await clusterFacts(host, config, azure, readCluster, 'kube.cluster-credentials');
    if (arcMsi) assertAzureRbac(facts, kubeSettings(config).requireAzureRbac, (m) => host.log.warn(m));
    const kubeconfig = arcMsi ? await renderKubeconfig(facts.name, facts.server, facts.caPem, identity) : undefined;
    return { facts, ca: facts.caPem.endsWith('\n') ? facts.caPem : `${facts.caPem}\n`, kubeconfig };
  };
  const fileState = async (path: string, content: string, mode: number): Promise<CheckResult | undefined> => {
    const current = await host.files.readText(path);
    if (current === undefined) return missing(`${path} is absent`);
    if (current !== content) return drifted(`${path} differs from the cluster's current ${path === paths.caCert ? 'CA' : 'server, CA or node identity'}`);
    const actual = ((await host.files.stat(path))?.mode ?? 0) & 0o777;
    if (actual !== mode) return drifted(`${path} has mode ${actual.toString(8)}, expected ${mode.toString(8)}`);
    return undefined;
  };
  const check = async (): Promise<CheckResult> => {
    assertSameAuth(host, config);
    const want = await expected();
    return (
      (await fileState(paths.caCert, want.ca, 0o644)) ??
      (want.kubeconfig === undefined ? undefined : await fileState(paths.kubeconfig, want.kubeconfig, 0o600)) ??
      ok(`${want.facts.server} (${want.facts.name})`)
    );
  };
  return {
    check,
    async install() {
      assertSameAuth(host, config);
      const want = await expected();
      // Recorded before the files: a run killed between them (another step's crash ends the process) must not
      // leave credentials whose check is ok but whose auth mode is unrecorded.
      await rememberFacts(host, want.facts);
      await replaceRecord(host, AUTH_RECORD, { auth: kubeletAuth(config) });
      await host.files.mkdir(paths.certsDir);
      await host.files.write(paths.caCert, want.ca, { mode: 0o644 });
      if (want.kubeconfig !== undefined) {
        await host.files.mkdir(paths.kubeletDir, { mode: 0o750 });
        await host.files.write(paths.kubeconfig, want.kubeconfig, { mode: 0o600 });
      }
    },
    async uninstall() {
      await host.changes.revert();
      await host.changes.forget(FACTS_RECORD);
      await host.changes.forget(AUTH_RECORD);
    },
  };
}

/** Custom record: the `kubernetes.auth` mode the node joined with. */
export const AUTH_RECORD = 'kubelet-auth';

/**
 * A joined node keeps its mode: the two modes leave different credentials, bindings and roles behind, and a switch
 * in place would mix them. Changing it is an unbootstrap and a bootstrap (exit 2, nothing changed).
 */
function assertSameAuth(host: Host, config: FlexnodeConfig): void {
  const joined = findRecord<{ auth: KubeletAuth }>(host, AUTH_RECORD)?.auth;
  const wanted = kubeletAuth(config);
  if (joined && joined !== wanted) {
    throw new ConfigError(
      `kubernetes.auth is ${wanted}, but this node joined with ${joined}`,
      [{ path: 'kubernetes.auth', message: `the node joined with ${joined}` }],
      `run \`flexnode unbootstrap\` with the config it joined with, then \`flexnode bootstrap\` with the new one`,
    );
  }
}
