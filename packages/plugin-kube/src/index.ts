export { default as plugin } from './plugin.js';
export {
  kubePreflight,
  createPreflightStep,
  kubeVersionSkew,
  createVersionSkewStep,
  kubeNetwork,
  createNetworkStep,
  kubeKernelModules,
  kubeSysctl,
  createSysctlStep,
  kubeSwap,
  kubePackages,
  kubeBinaries,
  createBinariesStep,
  kubeClusterCredentials,
  createCredentialsStep,
  kubeNodeBootstrap,
  createNodeBootstrapStep,
  whenBootstrapToken,
  kubePodCidr,
  createPodCidrStep,
  kubeKubelet,
  createKubeletStep,
  kubeNode,
  createNodeStep,
  kubeProxy,
  createProxyStep,
} from './steps.js';
export { podCidrService, serviceProxyService, nodeMaintenanceService, createMaintenanceService } from './services.js';
export { kubeSysctls, KUBERNETES_SYSCTLS, KERNEL_DEFAULTS_SYSCTLS, KERNEL_TUNING_SYSCTLS, SYSCTL_FILE, renderSysctlFile } from './os/sysctl.js';
export { KUBERNETES_MODULES, MODULES_FILE } from './os/kernel-modules.js';
export { FSTAB, FSTAB_MARK, SWAP_RECORD, parseProcSwaps, fstabSwapLines, commentOutSwap } from './os/swap.js';
export { REQUIRED_TOOLS } from './os/packages.js';
export { defaultReadings, type ReadingsFactory } from './preflight/step.js';
export { runPreflight, CHECKS, CHECK_NAMES, type CheckOutcome, type PreflightReadings, type PreflightReport, type ProbeResult } from './preflight/checks.js';
export { kubernetesVersion, pinnedVersion, installRelease, installedDrift, BINARIES_RECORD, type BinariesRecord } from './binaries/step.js';
export {
  kubeRelease,
  kubeArtifacts,
  kubeVersionOf,
  NODE_TARBALL,
  DL_K8S_IO,
  AKS_MIRROR,
  TARBALL_BIN_DIR,
  type KubeArtifact,
  type KubeRelease,
  type KubernetesPins,
} from './binaries/artifacts.js';
export { fillUrlTemplate } from './binaries/url-template.js';
export { readServerVersion, SKEW_RECORD, type ServerVersionReader, type VersionSkewOptions } from './skew/step.js';
export { assertSupportedSkew, MAX_KUBELET_MINORS_BEHIND, SKEW_RULE } from './skew/skew.js';
export { parseKubeVersion, type KubeVersion } from './version.js';
export { KUBE_BINARIES, KUBE_CHECKSUMS, KUBE_PROXY, type ReleaseBinary } from './binaries/versions.js';
export {
  AKS_SERVER_APP_ID,
  AKS_SCOPE,
  readClusterFromArm,
  defaultClusterReader,
  cachedReader,
  type ClusterFacts,
  type ClusterReader,
} from './cluster/cluster.js';
export { kubeconfigObject, renderKubeconfig, renderKubeconfigOf, readKubeconfig } from './cluster/kubeconfig.js';
export { clusterFacts, recordedFacts, FACTS_RECORD } from './cluster/recorded.js';
export { nodeName, type KubeletStepOptions } from './kubelet/step.js';
export {
  kubeletConfiguration,
  renderKubeletConfig,
  nodeLabels,
  aksEvictionHard,
  aksKubeReserved,
  TLS_CIPHER_SUITES,
  type MachineSize,
} from './kubelet/config.js';
export { kubeletUnit, kubeletDropIn, kubeletArgs, kubeletEnvironmentFile, type KubeletFlags } from './kubelet/unit.js';
export { machineSize, routeSourceAddress } from './kubelet/machine.js';
export { httpsKubeClient, apiRequest, readyCondition, type KubeClient, type KubeCredential, type NodeApiOptions, type RequestBody } from './kubelet/api.js';
export { kubeletAuth, type KubeletAuth } from './auth.js';
export { OperatorKube, OPERATOR_KUBE_ROLE, tokenSubject } from './cluster/operator-kube.js';
export { TOKEN_RECORD, BINDING_RECORD, type NodeBootstrapOptions } from './bootstrap/step.js';
export { BOOTSTRAP_BINDINGS, NODES_ANNOTATION, ensureBinding, releaseBinding, type BindingSpec } from './bootstrap/bindings.js';
export { SelfMadeTokens, type BootstrapTokenSource, type IssuedToken, type TokenRef } from './bootstrap/source.js';
export { BOOTSTRAP_GROUP, newBootstrapToken, parseBootstrapToken, tokenSecret, tokenSecretName } from './bootstrap/token.js';
export { renderBootstrapKubeconfig } from './bootstrap/kubeconfig.js';
export { readNodeCertificate, nodeCertificateProblem, CURRENT_CLIENT_PAIR, type NodeCertificate } from './kubelet/node-credential.js';
export { validateKubeletConfiguration, KUBELET_CONFIGURATION_V1BETA1 } from './kubelet/v1beta1-schema.js';
export { kubePaths, KUBELET_UNIT, KUBE_PROXY_UNIT, type KubePaths } from './paths.js';
export { parseCidr, overlaps, contains, subnet, subnetCount, isPrivateAddress, addressText, type Cidr } from './network/cidr.js';
export {
  planPodRange,
  poolShare,
  nameHash,
  clusterAllocates,
  checkAllocatedRange,
  describePlan,
  AKS_RESERVED_RANGES,
  DEFAULT_NODE_MASK_SIZE,
  type PodRangePlan,
  type ClusterRanges,
  type NodeRange,
  type PodRangeInput,
} from './network/pod-range.js';
export { defaultProxyMode, decideProxyMode, proxyPlan, AKS_CLUSTER_LABEL, type ProxyMode, type ProxyDecision } from './network/service-proxy.js';
export { registrationLabels, registrationTaints, nodeObject, clusterNetwork, clusterRanges, EXCLUDE_LB_LABEL } from './network/registration.js';
export { probeApiServer, callbackNote, describeAddresses, type ApiServerProbe, type Reachability } from './network/api-server.js';
export { httpsNodesApi, nodesApi, podCIDRsOf, rangesOf, uidPrecondition, type NodesApi } from './network/nodes.js';
export { NETWORK_RECORD, type NetworkStepOptions } from './network/step.js';
export { POD_CIDR_RECORD, type PodCidrStepOptions } from './network/pod-cidr-step.js';
export { podCidrs } from './network/pod-cidr-service.js';
export { NODE_LABELS_RECORD, type NodeStepOptions } from './network/node-step.js';
export { clusterCIDRsFor, PROXY_BINARY_RECORD, PROXY_INPUTS_RECORD, PROXY_STARTED_RECORD } from './proxy/step.js';
export { kubeProxyConfiguration, renderKubeProxyConfig, kubeProxyUnit, type KubeProxyInput } from './proxy/config.js';
export { kubeSettings, PLUGIN_NAME, type KubeSettings } from './settings.js';
export { nodeMaintenance, type MaintenanceOptions } from './maintenance/service.js';
export { drainNode, DrainTimeoutError, type DrainReport, type Blocker } from './maintenance/drain.js';
export { cordon, uncordon, cordonState, CORDONED_BY, CORDONED_AT } from './maintenance/cordon.js';
export { acquireSlot, renewSlot, releaseSlots, slotName } from './maintenance/slots.js';
export { upgradeSettings, DEFAULT_LEASE_NAMESPACE, SLOT_LEASE_SECONDS } from './maintenance/upgrade-settings.js';
export { TEARDOWN_RECORD, TEARDOWN_PHASES } from './teardown/sequence.js';
