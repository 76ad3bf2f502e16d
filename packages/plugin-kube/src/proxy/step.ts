import {
  drifted,
  findRecord,
  missing,
  ok,
  proxyEnvironment,
  renderEnvironmentFile,
  replaceRecord,
  runServiceWith,
  serviceInputsChanged,
  type Arch,
  type AzureContext,
  type CheckResult,
  type FlexnodeConfig,
  type Host,
  type NodeIdentity,
  type PodCidrService,
  type StepInstance,
} from '@flexnode/sdk';
import { installedDrift, installRelease, kubernetesVersion, pinnedVersion, type BinariesRecord } from '../binaries/step.js';
import { kubeArtifacts, kubeRelease, kubeVersionOf, type KubeArtifact } from '../binaries/artifacts.js';
import { KUBE_PROXY } from '../binaries/versions.js';
import { defaultClusterReader, type ClusterFacts, type ClusterReader } from '../cluster/cluster.js';
import { renderKubeconfigOf } from '../cluster/kubeconfig.js';
import { clusterFacts, FACTS_RECORD, recordedFacts, rememberFacts } from '../cluster/recorded.js';
import { nodeName } from '../kubelet/step.js';
import { contains, parseCidr, type Cidr } from '../network/cidr.js';
import { clusterNetwork } from '../network/registration.js';
import { proxyPlan } from '../network/service-proxy.js';
import { KUBE_PROXY_UNIT, kubePaths } from '../paths.js';
import { renderKubeProxyConfig, kubeProxyUnit } from './config.js';

/** Custom record: the kube-proxy binary installed (version, source, sha256), as kube.binaries records its own. */
export const PROXY_BINARY_RECORD = 'kube-proxy-binary';
/** Custom record: the version and clusterCIDR the files were written for (the check needs no network). */
export const PROXY_INPUTS_RECORD = 'kube-proxy-inputs';
/** Custom record: the hashes kube-proxy.service was (re)started with. */
export const PROXY_STARTED_RECORD = 'kube-proxy-started';

interface ProxyInputs {
  version: string;
  clusterCIDRs: string[];
}

/**
 * The ranges kube-proxy counts as pod traffic: the cluster's pod ranges when this node's range lies inside them
 * (a range the cluster allocated), else the node's own (an edge node's range is outside the cluster's); the
 * cluster's when the node has none of its own (a network with its own address management). One per IP family.
 */
export async function clusterCIDRsFor(facts: Pick<ClusterFacts, 'podCidrs'>, podCidr: PodCidrService): Promise<string[]> {
  const own = (await podCidr.podCIDRs().catch(() => [] as readonly string[])).map((c) => parseCidr(c, false)).filter((c): c is Cidr => !!c);
  const cluster = (facts.podCidrs ?? []).map((c) => parseCidr(c, false)).filter((c): c is Cidr => !!c);
  const chosen = own.length === 0 || own.every((c) => cluster.some((k) => contains(k, c))) ? cluster : own;
  const perFamily = new Map<number, string>();
  for (const c of chosen) if (!perFamily.has(c.family)) perFamily.set(c.family, c.text);
  return [...perFamily.values()];
}

/**
 * What `kube.proxy` (steps.ts) downloads for a mirror, for a node that may run kube-proxy itself (the mode `auto`
 * picks follows the cluster, which a mirror cannot ask). From the node tarball, kube-proxy comes with kube.binaries'
 * download.
 */
export function proxyArtifacts(config: FlexnodeConfig, arch: Arch): KubeArtifact[] {
  const mode = config.kubernetes?.serviceProxy ?? 'auto';
  if (mode === 'aks' || mode === 'none') return [];
  const version = pinnedVersion(config);
  return kubeRelease(config, arch, version, ['kube-proxy']).kind === 'binaries' ? kubeArtifacts(config, arch, version, ['kube-proxy']) : [];
}

/** What `kube.proxy` (steps.ts) is given. */
export interface ProxyDeps {
  host: Host;
  config: FlexnodeConfig;
  azure: AzureContext;
  identity: NodeIdentity;
  podCidr: PodCidrService;
}

/**
 * The operations of `kube.proxy` (steps.ts): kube-proxy run by flexnode (binary, config, kubeconfig, unit) when the
 * mode says so, else nothing on the machine (a kube-proxy flexnode installed earlier is removed).
 */
export function proxyOps({ host, config, azure, identity, podCidr }: ProxyDeps, readCluster: ClusterReader = defaultClusterReader): StepInstance {
  const paths = kubePaths(config);
  const decide = async () => {
    const facts = await clusterFacts(host, config, azure, readCluster, 'kube.proxy');
    return { facts, plan: proxyPlan(config, clusterNetwork(facts)) };
  };

  /** The files for the recorded inputs (check) or fresh ones (install). */
  const expected = async (facts: ClusterFacts, fresh: boolean) => {
    const recorded = findRecord<ProxyInputs>(host, PROXY_INPUTS_RECORD);
    const version = await kubernetesVersion(host, config, azure, async () => facts, 'kube.proxy', fresh ? undefined : recorded?.version);
    const clusterCIDRs = !fresh && recorded ? recorded.clusterCIDRs : await clusterCIDRsFor(facts, podCidr);
    const input = { nodeName: await nodeName(host, config), clusterCIDRs, version: kubeVersionOf(version) };
    const files: readonly (readonly [path: string, content: string, mode: number])[] = [
      [paths.kubeProxyConfig, await renderKubeProxyConfig(paths, input), 0o644],
      [paths.kubeProxyKubeconfig, await renderKubeconfigOf('kube.proxy', facts.name, facts.server, facts.caPem, identity), 0o600],
      [
        paths.kubeProxyEnvironmentFile,
        renderEnvironmentFile(proxyEnvironment(config.proxy), 'Written by flexnode (step kube.proxy): the proxy environment of kube-proxy.service.'),
        0o600,
      ],
      [paths.kubeProxyUnit, kubeProxyUnit(paths), 0o644],
    ];
    return { inputs: { version, clusterCIDRs } satisfies ProxyInputs, files };
  };

  const fingerprint = async () => {
    const out: Record<string, string | null> = {};
    for (const p of [`${paths.binDir}/${KUBE_PROXY}`, paths.kubeProxyConfig, paths.kubeProxyKubeconfig, paths.kubeProxyEnvironmentFile, paths.kubeProxyUnit])
      out[p] = (await host.files.sha256(p)) ?? null;
    return out;
  };

  const check = async (): Promise<CheckResult> => {
    // The mode follows the cluster: decided once with the operator's credential and recorded, so checks need no Azure.
    if (!recordedFacts(host, config)) return missing('the service proxy mode is not decided for this cluster yet');
    const { facts, plan } = await decide();
    const binary = findRecord<BinariesRecord>(host, PROXY_BINARY_RECORD);
    if (plan.mode !== 'flexnode') {
      return binary
        ? drifted(`kube-proxy run by flexnode is installed, but Services are now served by ${plan.implementedBy}`)
        : ok(`Services: ${plan.implementedBy}`);
    }
    if (!binary) return missing('kube-proxy is not installed');
    const want = await expected(facts, false);
    const drift = await installedDrift(host, config, binary, want.inputs.version, [KUBE_PROXY]);
    if (drift) return drifted(drift);
    for (const [path, content, mode] of want.files) {
      const current = await host.files.readText(path);
      if (current === undefined) return missing(`${path} is absent`);
      if (current !== content) return drifted(`${path} differs from what flexnode writes`);
      const actual = ((await host.files.stat(path))?.mode ?? 0) & 0o777;
      if (actual !== mode) return drifted(`${path} has mode ${actual.toString(8)}, expected ${mode.toString(8)}`);
    }
    if (!(await host.systemd.isEnabled(KUBE_PROXY_UNIT))) return drifted(`${KUBE_PROXY_UNIT} is not enabled`);
    if (!(await host.systemd.available())) return ok(`kube-proxy ${want.inputs.version} written and enabled; no service manager is running`);
    if (!(await host.systemd.isActive(KUBE_PROXY_UNIT))) return drifted(`${KUBE_PROXY_UNIT} is not active`);
    if (serviceInputsChanged(host, await fingerprint(), PROXY_STARTED_RECORD))
      return drifted(`${KUBE_PROXY_UNIT} runs with older files than those installed: it needs a restart`);
    return ok(`kube-proxy ${want.inputs.version} active${want.inputs.clusterCIDRs.length ? ` (pod ranges ${want.inputs.clusterCIDRs.join(', ')})` : ''}`);
  };

  const remove = async () => {
    await host.changes.revert();
    for (const type of [PROXY_BINARY_RECORD, PROXY_INPUTS_RECORD, PROXY_STARTED_RECORD]) await host.changes.forget(type);
    if (await host.systemd.available()) await host.systemd.daemonReload();
  };

  return {
    check,
    async install() {
      if ((await check()).status === 'ok') return;
      const { facts, plan } = await decide();
      if (plan.mode !== 'flexnode') {
        if (findRecord<BinariesRecord>(host, PROXY_BINARY_RECORD) || host.changes.list().some((c) => c.kind !== 'custom')) {
          host.log.info(`Services: ${plan.implementedBy}; removing the kube-proxy flexnode ran`);
          await remove();
        }
        await rememberFacts(host, facts);
        return;
      }
      const want = await expected(facts, true);
      const release = kubeRelease(config, host.arch, want.inputs.version, [KUBE_PROXY]);
      const binary = await installRelease(host, config, release, [KUBE_PROXY], paths.binDir);
      await host.files.mkdir(paths.kubeProxyDir, { mode: 0o750 });
      await host.files.mkdir(paths.configDir);
      await host.files.mkdir(paths.unitDir);
      for (const [path, content, mode] of want.files) await host.files.write(path, content, { mode });
      if (binary) await replaceRecord(host, PROXY_BINARY_RECORD, binary);
      await replaceRecord(host, PROXY_INPUTS_RECORD, want.inputs);
      await rememberFacts(host, facts);
      await runServiceWith(host, KUBE_PROXY_UNIT, await fingerprint(), PROXY_STARTED_RECORD);
    },
    async uninstall() {
      await remove();
      await host.changes.forget(FACTS_RECORD);
    },
  };
}
