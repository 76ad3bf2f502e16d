import { hostname } from 'node:os';
import { ConfigError, isPlaceholder, type FlexnodeConfig } from '@flexnode/sdk';
import { cloudEndpoints } from './clouds.js';

const CLUSTER_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerService\/managedClusters\/([^/]+)$/i;

/** The target cluster, parsed from `azure.targetCluster.resourceId`. */
export interface ClusterRef {
  /** `/subscriptions/S/resourceGroups/RG/providers/Microsoft.ContainerService/managedClusters/NAME`. */
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location?: string;
}

/** Everything the Arc steps derive from the config, with upstream's defaults applied. */
export interface ArcSettings {
  subscriptionId: string;
  tenantId: string;
  machineName: string;
  /** Default: the cluster's resource group (as upstream). */
  resourceGroup: string;
  /** Default: the cluster's location (as upstream). */
  location: string;
  tags: Record<string, string>;
  /** azcmagent's `--cloud` value. */
  cloud: string;
  cluster: ClusterRef;
  /** ARM id of the Arc machine resource. */
  machineId: string;
}

/**
 * Refuse placeholders in the fields Azure would see, naming them: `plan` with the example config shows this
 * instead of a timeout or an obscure Azure error, and Azure is never contacted with them.
 */
export function assertNoPlaceholders(config: FlexnodeConfig): void {
  const a = config.azure;
  const fields: [string, string | undefined][] = [
    ['azure.subscriptionId', a.subscriptionId],
    ['azure.tenantId', a.tenantId],
    ['azure.targetCluster.resourceId', a.targetCluster?.resourceId],
    ['azure.arc.machineName', a.arc?.machineName],
    ['azure.arc.resourceGroup', a.arc?.resourceGroup],
    ['azure.arc.location', a.arc?.location],
    ['azure.servicePrincipal.clientId', a.servicePrincipal?.clientId],
    ['azure.servicePrincipal.tenantId', a.servicePrincipal?.tenantId],
  ];
  const found = fields.filter(([, v]) => isPlaceholder(v));
  if (found.length > 0) {
    throw new ConfigError(
      `Azure is not contacted: ${found.map(([p, v]) => `${p} still holds the example placeholder "${v}"`).join('; ')}`,
      found.map(([path]) => ({ path, message: 'still holds a placeholder from the example; put the real value' })),
      'put the real values in the config (az account show gives the subscription and tenant ids)',
    );
  }
}

export function parseClusterId(resourceId: string, location?: string): ClusterRef {
  const m = CLUSTER_ID.exec(resourceId.trim());
  if (!m) {
    throw new ConfigError(`azure.targetCluster.resourceId is not an AKS resource id: "${resourceId}"`, [
      {
        path: 'azure.targetCluster.resourceId',
        message: 'expected /subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.ContainerService/managedClusters/<name>',
      },
    ]);
  }
  const [, subscriptionId, resourceGroup, name] = m as unknown as [string, string, string, string];
  return {
    id: `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${name}`,
    subscriptionId,
    resourceGroup,
    name,
    location,
  };
}

/** The Arc settings of a config; throws ConfigError naming the field when something needed is absent. */
export function arcSettings(config: FlexnodeConfig): ArcSettings {
  assertNoPlaceholders(config);
  const a = config.azure;
  const arc = a.arc ?? {};
  const cluster = parseClusterId(a.targetCluster.resourceId, a.targetCluster.location);
  const location = arc.location ?? cluster.location;
  if (!location) {
    throw new ConfigError('azure.arc.location is not set and azure.targetCluster.location gives no default', [
      { path: 'azure.arc.location', message: 'required: the Azure region of the Arc machine resource, e.g. westus2' },
    ]);
  }
  const machineName = arc.machineName ?? machineNameFromHostname(hostname());
  const resourceGroup = arc.resourceGroup ?? cluster.resourceGroup;
  const tags = arc.tags ?? {};
  for (const [k, v] of Object.entries(tags)) {
    if (k.includes(',') || k.includes('=') || v.includes(',')) {
      throw new ConfigError(`azure.arc.tags: "${k}" cannot be passed to azcmagent (--tags k=v,...)`, [
        { path: `azure.arc.tags.${k}`, message: 'keys may not contain "," or "=", values may not contain ","' },
      ]);
    }
  }
  return {
    subscriptionId: a.subscriptionId,
    tenantId: a.tenantId,
    machineName,
    resourceGroup,
    location,
    tags,
    cloud: cloudEndpoints(a.cloud).azcmagentCloud,
    cluster,
    machineId: `/subscriptions/${a.subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.HybridCompute/machines/${machineName}`,
  };
}

/** A scope for the SDK: without the leading slash, which the pinned clients would double (`//subscriptions`). */
export function sdkScope(id: string): string {
  return id.replace(/^\/+/, '');
}

/** Case-insensitive ARM id comparison. */
export function sameId(a: string | undefined, b: string | undefined): boolean {
  return (a ?? '').replace(/^\/+/, '').toLowerCase() === (b ?? '').replace(/^\/+/, '').toLowerCase();
}

/**
 * HybridCompute's rule for a machine name (machineName parameter, ^[a-zA-Z0-9-_\.]{1,54}$, in the REST spec
 * specification/hybridcompute/.../stable/2025-01-13/HybridCompute.json); the config schema applies it to
 * azure.arc.machineName.
 */
const ARC_MACHINE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,53}$/;

/**
 * The default machine name, the host's short name: checked here, before anything changes, because a host name may
 * be longer (63 characters a label) than Azure allows, and azcmagent connect would fail halfway through a run.
 */
export function machineNameFromHostname(host: string): string {
  const short = host.split('.')[0]!;
  if (!ARC_MACHINE_NAME.test(short)) {
    throw new ConfigError(`azure.arc.machineName is not set and this host's name ${JSON.stringify(short.slice(0, 80))} cannot name an Arc machine`, [
      {
        path: 'azure.arc.machineName',
        message: "required here: 1-54 letters, digits, '-', '_' or '.', starting with a letter or digit (the host name is used when it fits)",
      },
    ]);
  }
  return short;
}
