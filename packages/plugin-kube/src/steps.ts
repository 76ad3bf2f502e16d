import {
  ArcIdentity,
  AzureCredential,
  Cni,
  ContainerRuntime,
  deferredStep,
  defineStep,
  PodCidr,
  ServiceProxy,
  Tokens,
  type FlexnodeConfig,
  type StepDefinition,
} from '@flexnode/sdk';
import { kubeletAuth } from './auth.js';
import type { NodeBootstrapOptions } from './bootstrap/step.js';
import type { ClusterReader } from './cluster/cluster.js';
import type { KubeletStepOptions } from './kubelet/step.js';
import type { NodeStepOptions } from './network/node-step.js';
import type { PodCidrStepOptions } from './network/pod-cidr-step.js';
import type { NetworkStepOptions } from './network/step.js';
import type { ReadingsFactory } from './preflight/step.js';
import type { VersionSkewOptions } from './skew/step.js';

// Every command that reads steps imports this module (the plugin's entry): it holds the definitions only. What
// the steps do is in impl.ts, imported the first time a step runs or a mirror asks for artifacts (the SDK's
// deferredStep), so `flexnode steps` never parses it. The factories take what tests inject; impl.ts fills in the
// real ones.
const impl = () => import('./impl.js');

/**
 * `kube.preflight`, first of plugin-kube's steps (all others come after it): the checks of `flexnode doctor`.
 * Check = every preflight check passes or only warns (read-only: files, a listen attempt on 10250, HTTP GETs).
 * Install changes nothing: it runs the checks again and fails with ALL failures listed, so bootstrap stops before
 * anything after it touches the machine. Skip checks by name with pluginConfig skipPreflight. `readingsFor`: the
 * readings it takes (default: the machine's, through its Host).
 */
export function createPreflightStep(readingsFor?: ReadingsFactory): StepDefinition {
  return defineStep({
    id: 'kube.preflight',
    title: 'Preflight checks (OS, memory, disk, cgroups, port 10250, clock, endpoints)',
    preflight: true, // core runs it before every plugin's steps, so a failure stops bootstrap before any change
    inject: { host: Tokens.Host, config: Tokens.Config },
    create: (deps) => deferredStep(async () => (await impl()).preflightOps(deps, readingsFor)),
  });
}

export const kubePreflight = createPreflightStep();

/**
 * `kube.version` (a preflight step: it runs before any other step, so before anything is downloaded): the
 * kubelet version this node will run (`kubernetes.version`, else the cluster's) against the API server's, by
 * Kubernetes' version skew policy (never newer, at most three minors older), and its files against what can verify
 * them (binaries/artifacts.ts, kubeRelease). Either failing is a ConfigError: bootstrap exits 2 naming what is wrong
 * (both versions and the rule), with nothing changed.
 *
 * The API server's version is its `/version`; when that cannot be read from here before the join (a private
 * cluster, a firewall, 401), the version ARM reports for the control plane (`currentKubernetesVersion`) stands in,
 * and the log says so. The versions checked are recorded: the check needs neither Azure nor the API server again
 * until the configured version changes.
 */
export function createVersionSkewStep(options: VersionSkewOptions = {}): StepDefinition {
  return defineStep({
    id: 'kube.version',
    title: 'Kubernetes version: supported by the API server, and verifiable',
    // Before any step downloads anything; left out of runs (`--only`) that install no kubelet.
    preflight: { for: ['kube.binaries', 'kubelet'] },
    inject: { host: Tokens.Host, config: Tokens.Config, azure: AzureCredential },
    create: (deps) => deferredStep(async () => (await impl()).versionSkewOps(deps, options)),
  });
}

export const kubeVersionSkew = createVersionSkewStep();

/**
 * `kube.network`, a preflight step of runs that join the node (before anything is downloaded or changed):
 *
 * - the API server of the kubeconfig the kubelet will use answers TCP and TLS (the cluster CA, its name checked);
 *   a private cluster's name and a private address are named as such. A failure stops bootstrap (exit 1) with what
 *   to fix; `skipPreflight: ["api-server"]` skips it. Either way the log says that `kubectl logs/exec` need the
 *   control plane to reach this node on 10250;
 * - the service proxy: who implements Services on the node (the `service-proxy` provider's plan for the cluster's
 *   network profile); a mode the cluster cannot honour is a ConfigError (exit 2);
 * - this node's pod range, when its network takes pod addresses from one: where it comes from (the Node's
 *   spec.podCIDR, cni.podCIDR, a share of cni.podCIDRPool) and, for a range chosen here, that it overlaps neither the
 *   cluster's pod and service ranges, AKS's reserved ranges nor any other Node's range (listed with the operator's
 *   credential: without nodes/read that is a preflight failure, or with `skipPreflight: ["node-ranges"]` the check
 *   moves to kube.pod-cidr (the pool) or kube.node (cni.podCIDR), with the node's identity, or the operator's in
 *   bootstrap-token mode). An overlap is a ConfigError (exit 2) naming the ranges.
 *
 * The decisions and the facts are recorded: the check compares the inputs with the record and needs neither Azure
 * nor the network, so `status` and the agent do not probe the API server every cycle.
 */
export function createNetworkStep(options: NetworkStepOptions = {}): StepDefinition {
  return defineStep({
    id: 'kube.network',
    title: "Cluster network: API server reachable, service proxy, this node's pod range",
    // Before any step changes anything; left out of runs (`--only`) that do not join the node.
    preflight: { for: ['kubelet', 'pod-cidr', 'service-proxy'] },
    // After the version skew check: a kubelet the cluster refuses stops the run before the network is looked at.
    after: ['kube.version'],
    inject: { host: Tokens.Host, config: Tokens.Config, azure: AzureCredential, cni: Cni, proxy: ServiceProxy },
    create: (deps) => deferredStep(async () => (await impl()).networkOps(deps, options)),
  });
}

export const kubeNetwork = createNetworkStep();

/** `kube.kernel-modules`: overlay and br_netfilter loaded now (a built-in module counts as loaded) and at every boot. */
export const kubeKernelModules = defineStep({
  id: 'kube.kernel-modules',
  title: 'Kernel modules overlay and br_netfilter',
  after: ['kube.preflight'],
  inject: { host: Tokens.Host },
  create: (deps) => deferredStep(async () => (await impl()).kernelModulesOps(deps)),
});

/**
 * A sysctl step for the settings `settingsOf(config)` returns (default: os/sysctl.ts kubeSysctls): applied now and
 * persisted in SYSCTL_FILE; the previous live values and the file's previous content are journaled, so uninstall
 * puts both back. Exported for tests that must stay inside a network namespace (only per-netns keys such as
 * net.ipv4.ip_forward).
 */
export function createSysctlStep(settingsOf?: (config: FlexnodeConfig) => Record<string, string>): StepDefinition {
  return defineStep({
    id: 'kube.sysctl',
    title: 'Kernel settings for Kubernetes networking and the kubelet',
    after: ['kube.kernel-modules'],
    inject: { host: Tokens.Host, config: Tokens.Config },
    create: (deps) => deferredStep(async () => (await impl()).sysctlOps(deps, settingsOf)),
  });
}

/** `kube.sysctl`: the kernel settings of os/sysctl.ts kubeSysctls. */
export const kubeSysctl = createSysctlStep();

/**
 * `kube.swap`: swap off now (`swapoff` per active area listed in /proc/swaps) and at boot (swap lines of /etc/fstab
 * commented out). The kubelet refuses to start with swap on (failSwapOn). Each area turned off is journaled first
 * (custom record `swap-off`), and the fstab write keeps the original, so uninstall restores /etc/fstab and turns
 * those areas (and only those) on again.
 *
 * Live swap is only touched on the machine's own root: under a sandbox `--root` the commands would act on the
 * machine running flexnode, so there only /etc/fstab is handled.
 */
export const kubeSwap = defineStep({
  id: 'kube.swap',
  title: 'Swap off (now and in /etc/fstab)',
  after: ['kube.preflight'],
  inject: { host: Tokens.Host },
  create: (deps) => deferredStep(async () => (await impl()).swapOps(deps)),
});

/**
 * `kube.packages`: conntrack, iptables, socat and ebtables present. Only the missing ones are installed (apt);
 * each package installed is journaled, so uninstall removes exactly those and never one that was there before
 * (upstream removed packages it had not installed).
 */
export const kubePackages = defineStep({
  id: 'kube.packages',
  title: 'Required packages (conntrack, iptables, socat, ebtables)',
  after: ['kube.preflight'],
  inject: { host: Tokens.Host },
  create: (deps) => deferredStep(async () => (await impl()).packagesOps(deps)),
});

/**
 * `kube.binaries`: kubelet, kubectl and kubeadm to /usr/local/bin (0755), from the release kubeRelease
 * (binaries/artifacts.ts) chooses: per binary from dl.k8s.io, or the node tarball (upstream's
 * `kubernetes.urlTemplate`, AKS's builds), each file verified while streaming against its pinned sha256 or the
 * `.sha256` published beside it, before anything is unpacked or copied. The version, the files' URLs and sha256s and
 * the installed hashes are recorded: the check compares against that record (a replaced binary, another version or
 * source is drift) and needs neither the network nor Azure.
 */
export function createBinariesStep(readCluster?: ClusterReader): StepDefinition {
  return defineStep({
    id: 'kube.binaries',
    title: 'kubelet, kubectl and kubeadm binaries (/usr/local/bin)',
    after: ['kube.preflight'],
    artifacts: async (config, arch) => (await impl()).binariesArtifacts(config, arch),
    inject: { host: Tokens.Host, config: Tokens.Config, azure: AzureCredential },
    create: (deps) => deferredStep(async () => (await impl()).binariesOps(deps, readCluster)),
  });
}

export const kubeBinaries = createBinariesStep();

/**
 * `kube.cluster-credentials` (provides `cluster-credentials`): reads the target cluster with the operator's
 * credential (managedClusters.get, listClusterUserCredentials) and writes the cluster CA (0644, the kubelet's
 * clientCAFile). In arc-msi mode it also refuses a cluster whose RBAC cannot authorise the node identity and writes
 * the kubelet's kubeconfig (0600): server and CA only, the user being the node's managed identity through an exec
 * credential plugin. In bootstrap-token mode the kubelet writes its kubeconfig itself (kube.node-bootstrap). Never an
 * admin credential. The facts it wrote them from are recorded: the check (and a heal) compare the files with those
 * and never need the operator's credential again. Uninstall removes both (journal).
 */
export function createCredentialsStep(readCluster?: ClusterReader): StepDefinition {
  return defineStep({
    id: 'kube.cluster-credentials',
    title: 'Cluster CA and the kubelet kubeconfig (node identity)',
    provides: ['cluster-credentials'],
    after: ['kube.preflight'],
    inject: { host: Tokens.Host, config: Tokens.Config, azure: AzureCredential, identity: ArcIdentity },
    create: (deps) => deferredStep(async () => (await impl()).credentialsOps(deps, readCluster)),
  });
}

export const kubeClusterCredentials = createCredentialsStep();

/** The step applies in `kubernetes.auth: "bootstrap-token"` mode only. */
export function whenBootstrapToken(config: FlexnodeConfig): true | string {
  return kubeletAuth(config) === 'bootstrap-token'
    ? true
    : 'kubernetes.auth is arc-msi: the kubelet authenticates with the Arc identity, not a bootstrap token';
}

/**
 * `kube.node-bootstrap` (bootstrap-token mode): the kubelet can get, or has, a client certificate for
 * `system:node:<name>`. Install, with the operator's Kubernetes credential (their Entra token: cluster/operator-kube.ts):
 * kubeadm's bindings for flexnode's bootstrap group (shared by the cluster's flexnode nodes), a short-lived bootstrap
 * token for this node (`pluginConfig["@flexnode/plugin-kube"].bootstrapTokenTtlMinutes`, default 30), and the 0600
 * bootstrap kubeconfig the kubelet starts with (`--bootstrap-kubeconfig`). Check, without the operator: the kubelet's
 * current client certificate (the node's, signed by the cluster CA, not expired), else the recorded token still valid.
 * Uninstall deletes the token and the bootstrap kubeconfig, and takes this node off the bindings (a binding goes
 * with its last node).
 */
export function createNodeBootstrapStep(options: NodeBootstrapOptions = {}): StepDefinition {
  return defineStep({
    id: 'kube.node-bootstrap',
    title: 'kubelet TLS bootstrapping (bootstrap token, client certificate for system:node)',
    after: ['cluster-credentials'],
    when: whenBootstrapToken,
    inject: { host: Tokens.Host, config: Tokens.Config, azure: AzureCredential },
    create: (deps) => deferredStep(async () => (await impl()).nodeBootstrapOps(deps, options)),
  });
}

export const kubeNodeBootstrap = createNodeBootstrapStep();

/**
 * `kube.pod-cidr` (provides `pod-cidr`; runs unless `cni.podCIDR` gives the range): this node's pod range when it
 * comes from the cluster or from `cni.podCIDRPool`. The range of a Node is immutable and a new Node gets the
 * cluster's allocation at once, so the Node must exist, with its range, before the network is set up and before the
 * kubelet starts: this step registers it (what the kubelet would register: its labels and taints; the kubelet
 * adopts an existing Node) and
 *
 * - with `cni.podCIDRPool`: the node's share (kube.network's rule, taken again from a fresh list of Nodes) as
 *   spec.podCIDR; when another Node took the same share at the same moment, the younger one gives it up and takes
 *   the next free one;
 * - else: waits (pluginConfig podCIDRTimeoutSeconds) for the cluster's node-ipam controller (or the CNI's own) to
 *   set spec.podCIDR, and checks it against the service range, AKS's reserved ranges and the other Nodes'.
 *
 * A Node that exists already keeps its range (it must agree with the config). Nothing is registered when the node's
 * network takes no addresses from a node range (CniService.usesNodePodCIDR).
 *
 * Who registers it: in arc-msi mode the node identity (flexnode's node role lists, reads and creates Nodes, as
 * system:node does); in bootstrap-token mode the operator, since the node has no credential before the kubelet's
 * TLS bootstrapping and its certificate would let it read only its own Node, not the others' ranges (the kubelet
 * then adopts the Node as system:node:<name>). Checks read the Node as the node. Nobody's node identity may delete
 * a Node: giving up a share and uninstall delete it through the operator when the node may not
 * (kubelet/node-access.ts), and only if this step created it and it is still that Node (the kubelet step deletes
 * the Node it ran as first).
 */
export function createPodCidrStep(options: PodCidrStepOptions = {}): StepDefinition {
  return defineStep({
    id: 'kube.pod-cidr',
    title: "This node's pod range: the Node registered with it, or given it by the cluster",
    provides: [PodCidr],
    // After kube.node-bootstrap: in that mode the network reads the Node's range from the bootstrap kubeconfig's server.
    after: ['cluster-credentials', 'kube.node-bootstrap', ArcIdentity],
    when: (config) => (config.cni?.podCIDR !== undefined ? 'cni.podCIDR gives the pod range (the kubelet registers the Node)' : true),
    inject: { host: Tokens.Host, config: Tokens.Config, azure: AzureCredential, identity: ArcIdentity, cni: Cni, proxy: ServiceProxy },
    create: (deps) => deferredStep(async () => (await impl()).podCidrOps(deps, options)),
  });
}

export const kubePodCidr = createPodCidrStep();

/**
 * `kube.kubelet` (provides `kubelet`): the KubeletConfiguration, kubelet.service and its drop-in 10-flexnode.conf,
 * daemon-reload, enable, start; then waits until the Node is Ready. Check: files as expected, unit enabled and
 * (with a service manager) active with the current files, and, when the API server is reachable, the Node object
 * Ready (read-only GET with the node identity's token over HTTPS trusting only the cluster CA).
 *
 * Uninstall (teardown/sequence.ts, each phase journaled): cordons and drains the Node, stops and disables the
 * kubelet and removes exactly the files this step wrote (journal), stops and removes the pod containers and
 * sandboxes, the pods' bridge and NAT chains, unmounts what is mounted under the kubelet directory, deletes the
 * Node object (as the node if it may, else as the operator), then removes what the kubelet itself wrote in its
 * directory since flexnode first started it (as `kubeadm reset` does), so the machine is as it was.
 */
export function createKubeletStep(options: KubeletStepOptions = {}): StepDefinition {
  return defineStep({
    id: 'kube.kubelet',
    title: 'kubelet: configuration, systemd unit, Node Ready',
    provides: ['kubelet'],
    // After pod-cidr: a Node registered by flexnode with its pod range is there before the kubelet adopts it.
    after: [
      'kube.binaries',
      'kube.kernel-modules',
      'kube.sysctl',
      'kube.swap',
      'kube.packages',
      'cluster-credentials',
      'kube.node-bootstrap',
      ContainerRuntime,
      Cni,
      ArcIdentity,
      PodCidr,
    ],
    inject: {
      host: Tokens.Host,
      config: Tokens.Config,
      azure: AzureCredential,
      identity: ArcIdentity,
      runtime: ContainerRuntime,
      proxy: ServiceProxy,
      cni: Cni,
      run: Tokens.Run,
    },
    create: (deps) => deferredStep(async () => (await impl()).kubeletOps(deps, options)),
  });
}

export const kubeKubelet = createKubeletStep();

/**
 * `kube.node` (after `kubelet`): the Node carries what flexnode decided. The kubelet applies --node-labels only to a
 * Node it creates, so a label the config or the service proxy mode adds later (or no longer wants: AKS's cluster
 * label when the mode moves to `flexnode`) is patched here; the labels flexnode set are recorded, so one it set and
 * no longer wants is removed, and labels others set are left alone. With `cni.podCIDR`, the Node gets that range as
 * spec.podCIDR (settable once, from empty), so other nodes choosing from `cni.podCIDRPool` see it taken; a cluster
 * that allocated another range first is an error naming both. The Node is read and patched as the node (in
 * bootstrap-token mode with the kubelet's certificate: NodeRestriction applies to what it may change); listing the
 * other Nodes' ranges, which a node certificate may not, is the operator's in that mode. Checks say so when the API
 * server does not answer. Uninstall changes nothing in the cluster: the kubelet step deletes the Node.
 */
export function createNodeStep(options: NodeStepOptions = {}): StepDefinition {
  return defineStep({
    id: 'kube.node',
    title: 'Node object: the labels flexnode sets, the configured pod range',
    after: ['kubelet'],
    inject: { host: Tokens.Host, config: Tokens.Config, azure: AzureCredential, identity: ArcIdentity, proxy: ServiceProxy },
    create: (deps) => deferredStep(async () => (await impl()).nodeOps(deps, options)),
  });
}

export const kubeNode = createNodeStep();

/**
 * `kube.proxy` (provides `service-proxy`, after `kubelet`): Services on this node as the mode says
 * (`kubernetes.serviceProxy`, else by the cluster's network profile; see src/network/service-proxy.ts):
 *
 * - `flexnode`: kube-proxy of the kubelet's release (`bin/linux/<arch>/kube-proxy` verified against its pin or
 *   published `.sha256`, or from the same node tarball) to /usr/local/bin, its KubeProxyConfiguration
 *   (`/var/lib/kube-proxy/config.yaml`), its own 0600 kubeconfig with the node identity's exec credential, a 0600
 *   proxy environment, `kube-proxy.service`: enabled, started, restarted when any of them changes;
 * - `aks` (AKS's kube-proxy DaemonSet, through the node label the kubelet registers with) and `none`: nothing on
 *   the machine; a kube-proxy flexnode installed earlier is removed.
 *
 * Check: the record of the binary, the files, the unit enabled and active with the files it was started with; no
 * network, no Azure once recorded. Uninstall: stops and disables the unit and removes exactly what was installed.
 */
export function createProxyStep(readCluster?: ClusterReader): StepDefinition {
  return defineStep({
    id: 'kube.proxy',
    title: "Service proxy: kube-proxy run by flexnode, or AKS's",
    provides: [ServiceProxy],
    after: ['kubelet', 'kube.kernel-modules', 'kube.sysctl', 'kube.packages', 'cluster-credentials', ArcIdentity, PodCidr],
    artifacts: async (config, arch) => (await impl()).proxyArtifacts(config, arch),
    inject: { host: Tokens.Host, config: Tokens.Config, azure: AzureCredential, identity: ArcIdentity, podCidr: PodCidr },
    create: (deps) => deferredStep(async () => (await impl()).proxyOps(deps, readCluster)),
  });
}

export const kubeProxy = createProxyStep();
