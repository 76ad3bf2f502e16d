import { findRecord, missing, ok, replaceRecord, type AzureContext, type CheckResult, type FlexnodeConfig, type Host, type StepInstance } from '@flexnode/sdk';
import { defaultClusterReader, type ClusterFacts, type ClusterReader } from '../cluster/cluster.js';
import { OperatorKube } from '../cluster/operator-kube.js';
import { clusterFacts, FACTS_RECORD, rememberFacts } from '../cluster/recorded.js';
import type { KubeClient, NodeApiOptions } from '../kubelet/api.js';
import { nodeCertificateProblem, readNodeCertificate } from '../kubelet/node-credential.js';
import { nodeName } from '../kubelet/step.js';
import { kubePaths } from '../paths.js';
import { kubeSettings } from '../settings.js';
import { records } from '../util.js';
import { bootstrapKubeconfigToken, renderBootstrapKubeconfig } from './kubeconfig.js';
import { SelfMadeTokens, type BootstrapTokenSource, type TokenRef } from './source.js';
import { parseBootstrapToken } from './token.js';

/** Custom record: the token this node was given (its Secret's name and expiry; never the token itself). */
export const TOKEN_RECORD = 'bootstrap-token';
/** Custom record: a ClusterRoleBinding this node uses and helps own (written before it is created or joined). */
export const BINDING_RECORD = 'bootstrap-binding';

interface TokenRecord extends TokenRef {
  node: string;
  expiresAt: string;
  [key: string]: unknown;
}

export interface NodeBootstrapOptions {
  readCluster?: ClusterReader;
  /** The operator's Kubernetes client; tests inject a fake API server. */
  kubeClient?: (options: NodeApiOptions) => KubeClient;
  /** Where tokens come from (default: flexnode makes them). */
  tokenSource?: (kube: OperatorKube, facts: ClusterFacts) => BootstrapTokenSource;
  now?: () => Date;
}

/**
 * The operations of `kube.node-bootstrap` (steps.ts): a client certificate for the kubelet, or a bootstrap token to
 * get one, issued with the operator's Kubernetes credential; uninstall revokes the token and leaves the bindings.
 */
export function nodeBootstrapOps(
  { host, config, azure }: { host: Host; config: FlexnodeConfig; azure: AzureContext },
  options: NodeBootstrapOptions = {},
): StepInstance {
  const readCluster = options.readCluster ?? defaultClusterReader;
  const now = options.now ?? (() => new Date());
  const source = options.tokenSource ?? ((kube: OperatorKube) => new SelfMadeTokens(kube));
  const paths = kubePaths(config);

  const check = async (): Promise<CheckResult> => {
    const name = await nodeName(host, config);
    const facts = await clusterFacts(host, config, azure, readCluster, 'kube.node-bootstrap');
    const cert = await readNodeCertificate(host, paths.certDir);
    const problem = cert ? await nodeCertificateProblem(cert, name, facts.caPem, now()) : 'there is none yet';
    if (!problem) return ok(`the kubelet holds a client certificate for system:node:${name} until ${cert!.notAfter.toISOString()}`);
    const token = findRecord<TokenRecord>(host, TOKEN_RECORD);
    const written = await host.files.readText(paths.bootstrapKubeconfig);
    const inFile = written === undefined ? undefined : parseBootstrapToken((await bootstrapKubeconfigToken(written)) ?? '');
    const mode = ((await host.files.stat(paths.bootstrapKubeconfig))?.mode ?? 0) & 0o777;
    if (token && inFile?.id === token.id && token.node === name && mode === 0o600 && Date.parse(token.expiresAt) > now().getTime()) {
      return ok(`bootstrap token ${token.id} valid until ${token.expiresAt} in ${paths.bootstrapKubeconfig}; the kubelet's client certificate: ${problem}`);
    }
    return missing(
      `no usable credential for the kubelet: its client certificate: ${problem}; ${token ? `the bootstrap token ${token.id} expired at ${token.expiresAt} or its kubeconfig changed` : 'no bootstrap token was issued'}`,
    );
  };

  const install = async () => {
    if ((await check()).status === 'ok') return; // a usable certificate or token: nothing to issue
    const name = await nodeName(host, config);
    const facts = await clusterFacts(host, config, azure, readCluster, 'kube.node-bootstrap');
    const ttlMinutes = kubeSettings(config).bootstrapTokenTtlMinutes;
    if (host.dryRun) {
      await host.changes.record(`ensure the ClusterRoleBindings of flexnode's bootstrap group on ${facts.name}`, {});
      await host.changes.record(`create a bootstrap token for node ${name}, valid ${ttlMinutes} min`, {});
      await host.files.write(paths.bootstrapKubeconfig, '(bootstrap kubeconfig)', { mode: 0o600, secret: true });
      return;
    }
    const kube = await OperatorKube.connect(azure, facts, `kube.node-bootstrap (a bootstrap token for node ${name})`, options.kubeClient);
    const tokens = source(kube, facts);
    await tokens.prepare(
      name,
      async (binding, outcome) => {
        if (outcome === 'theirs') await host.changes.forget(BINDING_RECORD, (d) => d.name === binding);
        host.log.info(`ClusterRoleBinding ${binding}: ${outcome === 'theirs' ? "granted by an existing binding not flexnode's, left alone" : outcome}`);
      },
      (binding) =>
        records<{ name: string }>(host, BINDING_RECORD).some((r) => r.name === binding)
          ? Promise.resolve()
          : host.changes.record(BINDING_RECORD, { name: binding }),
    );
    const previous = findRecord<TokenRecord>(host, TOKEN_RECORD);
    if (previous) await tokens.revoke(previous); // expired or unused: a node holds one token at a time
    const expiresAt = new Date(now().getTime() + ttlMinutes * 60_000);
    const issued = await tokens.issue(name, expiresAt, (ref) =>
      replaceRecord(host, TOKEN_RECORD, { ...ref, node: name, expiresAt: expiresAt.toISOString() } satisfies TokenRecord),
    );
    await host.files.mkdir(paths.kubeletDir, { mode: 0o750 });
    await host.files.write(paths.bootstrapKubeconfig, await renderBootstrapKubeconfig(facts.name, facts.server, facts.caPem, issued.token), {
      mode: 0o600,
      secret: true,
    });
    await rememberFacts(host, facts); // the check (status, the agent) needs the CA without asking Azure
    host.log.info(`bootstrap token ${issued.ref.id} for node ${name} (${tokens.description}), valid until ${expiresAt.toISOString()}`);
  };

  const uninstall = async () => {
    const token = findRecord<TokenRecord>(host, TOKEN_RECORD);
    const bindings = records<{ name: string }>(host, BINDING_RECORD).map((r) => r.name);
    if (token || bindings.length > 0) {
      const name = token?.node ?? (await nodeName(host, config));
      const facts = await clusterFacts(host, config, azure, readCluster, 'kube.node-bootstrap');
      const kube = await OperatorKube.connect(
        azure,
        facts,
        `unbootstrap of kube.node-bootstrap (deleting the bootstrap token of node ${name})`,
        options.kubeClient,
      );
      const tokens = source(kube, facts);
      if (token) await tokens.revoke(token);
      await host.changes.forget(TOKEN_RECORD);
      const deleted = await tokens.release(name, bindings);
      for (const b of bindings)
        host.log.info(
          `ClusterRoleBinding ${b}: ${deleted.includes(b) ? 'deleted (no flexnode node uses it anymore)' : 'kept for the other flexnode nodes of the cluster'}`,
        );
      await host.changes.forget(BINDING_RECORD);
    }
    await host.changes.revert();
    await host.changes.forget(FACTS_RECORD);
  };

  return { check, install, uninstall };
}
