import {
  ConfigError,
  defineStep,
  drifted,
  findRecord,
  missing,
  ok,
  replaceRecord,
  Tokens,
  type CheckResult,
  type FlexnodeConfig,
  type Host,
  type StepDefinition,
  AzureCredential,
  ArcIdentity,
} from '@flexnode/sdk';
import { kubeletAuth, type KubeletAuth } from '../auth.js';
import { kubePaths } from '../paths.js';
import { kubeSettings } from '../settings.js';
import { assertAzureRbac, defaultClusterReader, type ClusterReader } from './cluster.js';
import { renderKubeconfig } from './kubeconfig.js';
import { clusterFacts, FACTS_RECORD, rememberFacts } from './recorded.js';

/**
 * `kube.cluster-credentials` (provides `cluster-credentials`): reads the target cluster with the operator's
 * credential (managedClusters.get, listClusterUserCredentials) and writes the cluster CA (0644, the kubelet's
 * clientCAFile). In arc-msi mode it also refuses a cluster whose RBAC cannot authorise the node identity and writes
 * the kubelet's kubeconfig (0600): server and CA only, the user being the node's managed identity through an exec
 * credential plugin. In bootstrap-token mode the kubelet writes its kubeconfig itself (kube.node-bootstrap). Never an
 * admin credential. The facts it wrote them from are recorded: the check (and a heal) compare the files with those
 * and never need the operator's credential again. Uninstall removes both (journal).
 */
export function createCredentialsStep(readCluster: ClusterReader = defaultClusterReader): StepDefinition {
  return defineStep({
    id: 'kube.cluster-credentials',
    title: 'Cluster CA and the kubelet kubeconfig (node identity)',
    provides: ['cluster-credentials'],
    after: ['kube.preflight'],
    inject: { host: Tokens.Host, config: Tokens.Config, azure: AzureCredential, identity: ArcIdentity },
    create: ({ host, config, azure, identity }) => {
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
          await host.files.mkdir(paths.certsDir);
          await host.files.write(paths.caCert, want.ca, { mode: 0o644 });
          if (want.kubeconfig !== undefined) {
            await host.files.mkdir(paths.kubeletDir, { mode: 0o750 });
            await host.files.write(paths.kubeconfig, want.kubeconfig, { mode: 0o600 });
          }
          await rememberFacts(host, want.facts);
          await replaceRecord(host, AUTH_RECORD, { auth: kubeletAuth(config) });
        },
        async uninstall() {
          await host.changes.revert();
          await host.changes.forget(FACTS_RECORD);
          await host.changes.forget(AUTH_RECORD);
        },
      };
    },
  });
}

export const kubeClusterCredentials = createCredentialsStep();

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
