import { AzureError, ConfigError, isFlexnodeError, isPlaceholder, type AzureContext, type FlexnodeConfig } from '@flexnode/sdk';
import { messageOf } from '../util.js';

/** The AKS server application: the audience of the node identity's tokens for the API server. */
export const AKS_SERVER_APP_ID = '6dae42f8-4368-4678-94ff-3960e28e3630';
export const AKS_SCOPE = `${AKS_SERVER_APP_ID}/.default`;

/** What plugin-kube needs to know about the target cluster. Only the server URL and CA leave the kubeconfig. */
export interface ClusterFacts {
  resourceId: string;
  name: string;
  /** major.minor.patch the control plane runs (currentKubernetesVersion, else kubernetesVersion). */
  kubernetesVersion?: string;
  fqdn?: string;
  privateFqdn?: string;
  /** AAD integration present (aadProfile). */
  aad: boolean;
  /** aadProfile.enableAzureRbac. */
  azureRbac: boolean;
  serviceCidr?: string;
  dnsServiceIP?: string;
  /** networkProfile.networkPlugin: `azure`, `kubenet`, `none`. */
  networkPlugin?: string;
  /** networkProfile.networkPluginMode: `overlay` for Azure CNI Overlay. */
  networkPluginMode?: string;
  /** networkProfile.networkDataplane: `azure` or `cilium`. */
  networkDataplane?: string;
  /** networkProfile.podCidrs (else podCidr): the pod ranges of the cluster's own nodes; none for Azure CNI with VNet pod IPs. */
  podCidrs?: string[];
  /** networkProfile.serviceCidrs (else serviceCidr). */
  serviceCidrs?: string[];
  /** The resource group of the cluster's own resources (`MC_...`): the value of `kubernetes.azure.com/cluster`. */
  nodeResourceGroup?: string;
  /** The API server URL from the user kubeconfig. */
  server: string;
  /** PEM of the cluster CA (decoded certificate-authority-data). */
  caPem: string;
}

/** Reads the facts of the configured cluster with the operator's credential. Tests inject their own. */
export type ClusterReader = (azure: AzureContext | undefined, config: FlexnodeConfig) => Promise<ClusterFacts>;

const CLUSTER_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerService\/managedClusters\/([^/]+)$/i;

/** subscription, resource group and name of `azure.targetCluster.resourceId`; ConfigError for a placeholder or a malformed id. */
export function parseClusterId(config: FlexnodeConfig): { subscriptionId: string; resourceGroup: string; name: string; resourceId: string } {
  const resourceId = config.azure?.targetCluster?.resourceId ?? '';
  const path = 'azure.targetCluster.resourceId';
  if (isPlaceholder(resourceId)) {
    throw new ConfigError(
      `${path} is still a placeholder ("${resourceId}"): flexnode cannot read the cluster`,
      [{ path, message: "replace the placeholder with the cluster's resource id" }],
      'set it to the output of `az aks show -g <group> -n <name> --query id -o tsv`',
    );
  }
  const m = CLUSTER_ID.exec(resourceId);
  if (!m) {
    throw new ConfigError(`${path} is not an AKS cluster resource id: "${resourceId}"`, [
      { path, message: 'expected /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ContainerService/managedClusters/<name>' },
    ]);
  }
  return { subscriptionId: m[1]!, resourceGroup: m[2]!, name: m[3]!, resourceId };
}

const CACHE_MS = 5 * 60_000;
const cache = new WeakMap<object, Map<string, { at: number; facts: Promise<ClusterFacts> }>>();
const NO_AZURE = {};

/**
 * Cluster facts read once per run (and at most every 5 minutes in a long-running agent) for every step that
 * asks: the credentials, binaries and kubelet steps all need them.
 */
export function cachedReader(reader: ClusterReader): ClusterReader {
  return (azure, config) => {
    let byId = cache.get(azure ?? NO_AZURE);
    if (!byId) cache.set(azure ?? NO_AZURE, (byId = new Map()));
    const key = `${reader.name}|${config.azure?.targetCluster?.resourceId}`;
    const hit = byId.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.facts;
    const facts = reader(azure, config);
    byId.set(key, { at: Date.now(), facts });
    facts.catch(() => byId!.delete(key)); // failures are not remembered
    return facts;
  };
}

/**
 * The real reader: `managedClusters.get` and `listClusterUserCredentials` (arm-containerservice, imported here
 * on first use so the plugin loads fast). From the user kubeconfig only the server URL and the CA are kept: never
 * an admin credential.
 */
export const readClusterFromArm: ClusterReader = async (azure, config) => {
  const id = parseClusterId(config);
  if (!azure) {
    throw new AzureError(
      `cannot read the cluster ${id.name}: no Azure credential is available`,
      undefined,
      undefined,
      'log in with `az login`, or set azure.servicePrincipal in the config (plugin-arc provides the credential)',
    );
  }
  const { ContainerServiceClient } = await import('@azure/arm-containerservice');
  const client = new ContainerServiceClient(azure.credential as never, id.subscriptionId, azure.clientOptions as never);
  try {
    const mc = await client.managedClusters.get(id.resourceGroup, id.name);
    const creds = await client.managedClusters.listClusterUserCredentials(id.resourceGroup, id.name, { format: 'exec' });
    const value = creds.kubeconfigs?.[0]?.value;
    if (!value || value.length === 0) throw new AzureError(`the cluster ${id.name} returned no user kubeconfig`);
    const { server, caPem } = await serverAndCa(Buffer.from(value).toString('utf8'), id.name);
    const version = mc.currentKubernetesVersion ?? mc.kubernetesVersion;
    const net = mc.networkProfile;
    const podCidrs = net?.podCidrs?.length ? net.podCidrs : net?.podCidr ? [net.podCidr] : [];
    const serviceCidrs = net?.serviceCidrs?.length ? net.serviceCidrs : net?.serviceCidr ? [net.serviceCidr] : [];
    return {
      resourceId: id.resourceId,
      name: id.name,
      ...(version ? { kubernetesVersion: version } : {}),
      ...(mc.fqdn ? { fqdn: mc.fqdn } : {}),
      ...(mc.privateFqdn ? { privateFqdn: mc.privateFqdn } : {}),
      aad: !!mc.aadProfile,
      azureRbac: mc.aadProfile?.enableAzureRbac === true,
      ...(mc.networkProfile?.serviceCidr ? { serviceCidr: mc.networkProfile.serviceCidr } : {}),
      ...(mc.networkProfile?.dnsServiceIP ? { dnsServiceIP: mc.networkProfile.dnsServiceIP } : {}),
      ...(net?.networkPlugin ? { networkPlugin: net.networkPlugin } : {}),
      ...(net?.networkPluginMode ? { networkPluginMode: net.networkPluginMode } : {}),
      ...(net?.networkDataplane ? { networkDataplane: net.networkDataplane } : {}),
      podCidrs,
      serviceCidrs,
      ...(mc.nodeResourceGroup ? { nodeResourceGroup: mc.nodeResourceGroup } : {}),
      server,
      caPem,
    };
  } catch (error) {
    throw azureError(error, id);
  }
};

/** The default reader: ARM, cached per run. */
export const defaultClusterReader: ClusterReader = cachedReader(readClusterFromArm);

/** A two-line, actionable error for a failed cluster read. */
function azureError(error: unknown, id: { name: string; resourceGroup: string; subscriptionId: string; resourceId: string }): Error {
  if (isFlexnodeError(error)) return error;
  const e = error as { statusCode?: number; code?: string; name?: string; message?: string };
  const status = e.statusCode;
  if (status === 401 || status === 403) {
    return new AzureError(
      `the operator credential may not read the cluster ${id.name} (HTTP ${status}${e.code ? ` ${e.code}` : ''})`,
      status,
      e.code,
      `grant it "Azure Kubernetes Service Cluster User Role" (list user credentials) and Reader on ${id.resourceId}`,
    );
  }
  if (status === 404) {
    return new AzureError(
      `the cluster ${id.name} was not found in resource group ${id.resourceGroup} of subscription ${id.subscriptionId}`,
      status,
      e.code,
      'check azure.targetCluster.resourceId (`az aks list -o table`)',
    );
  }
  if (e.name === 'CredentialUnavailableError' || e.name === 'AuthenticationError' || /credential|token|login/i.test(e.message ?? '')) {
    return new AzureError(
      `cannot read the cluster ${id.name}: no usable Azure credential (${firstLine(messageOf(error))})`,
      status,
      e.code,
      'log in with `az login`, or set azure.servicePrincipal in the config',
    );
  }
  return new AzureError(
    `reading the cluster ${id.name} failed: ${firstLine(messageOf(error))}`,
    status,
    e.code,
    'check the network path to Azure (proxy?) and retry',
  );
}

const firstLine = (s: string) => s.split('\n')[0]!.slice(0, 300);

/** The server URL and CA PEM of a kubeconfig's current context (or its only cluster). Nothing else is kept. */
export async function serverAndCa(kubeconfigYaml: string, clusterName: string): Promise<{ server: string; caPem: string }> {
  const { parse } = await import('yaml');
  let doc: Record<string, unknown>;
  try {
    doc = parse(kubeconfigYaml) as Record<string, unknown>;
  } catch (error) {
    throw new AzureError(`the kubeconfig of the cluster ${clusterName} is not YAML: ${messageOf(error)}`);
  }
  const clusters = (Array.isArray(doc?.clusters) ? doc.clusters : []) as { name?: string; cluster?: Record<string, unknown> }[];
  const contexts = (Array.isArray(doc?.contexts) ? doc.contexts : []) as { name?: string; context?: { cluster?: string } }[];
  const wanted = contexts.find((c) => c.name === doc['current-context'])?.context?.cluster;
  const entry = clusters.find((c) => c.name === wanted) ?? (clusters.length === 1 ? clusters[0] : undefined);
  const server = entry?.cluster?.server;
  const caData = entry?.cluster?.['certificate-authority-data'];
  if (typeof server !== 'string' || !/^https:\/\//.test(server)) throw new AzureError(`the kubeconfig of the cluster ${clusterName} has no https server URL`);
  if (typeof caData !== 'string') throw new AzureError(`the kubeconfig of the cluster ${clusterName} has no certificate-authority-data`);
  const caPem = Buffer.from(caData, 'base64').toString('utf8');
  if (!caPem.includes('-----BEGIN CERTIFICATE-----')) throw new AzureError(`the CA in the kubeconfig of the cluster ${clusterName} is not a PEM certificate`);
  return { server, caPem };
}

/** Refuse (or warn about) a cluster whose RBAC cannot authorise the node's managed identity. */
export function assertAzureRbac(
  facts: ClusterFacts,
  required: boolean,
  warn: (m: string) => void,
  consequence = 'the kubelet cannot register or read nodes',
): void {
  if (!facts.aad) {
    throw new AzureError(
      `the cluster ${facts.name} has no Microsoft Entra ID (AAD) integration: the node's managed identity cannot authenticate to it`,
      undefined,
      undefined,
      `enable it: \`az aks update -g <group> -n ${facts.name} --enable-aad --enable-azure-rbac\``,
    );
  }
  if (facts.azureRbac) return;
  const message = `the cluster ${facts.name} does not have Azure RBAC enabled (aadProfile.enableAzureRbac): the node identity's Azure role assignments do not apply inside the cluster, so ${consequence}`;
  const fix = `enable it: \`az aks update -g <group> -n ${facts.name} --enable-azure-rbac\`, or bind the identity with Kubernetes RBAC yourself and set pluginConfig["@flexnode/plugin-kube"].requireAzureRbac: false`;
  if (required) throw new AzureError(message, undefined, undefined, fix);
  warn(`${message} (requireAzureRbac is false: continuing; ${fix})`);
}
