import {
  ArcIdentity,
  AzureCredential,
  defineService,
  NodeMaintenance,
  PodCidr,
  ServiceProxy,
  Tokens,
  type NodeMaintenanceService,
  type PodCidrService,
} from '@flexnode/sdk';
import type { MaintenanceOptions } from './maintenance/service.js';
import { proxyPlan } from './network/service-proxy.js';
import { kubeSettings } from './settings.js';

// Part of the plugin's entry, like steps.ts: a service's create returns its capability at once, so the services
// whose methods are all async forward them to the real service in impl.ts, created on the first call.
const impl = () => import('./impl.js');

/** `load`, run once: the first call starts it, every call gets its result. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}

/** plugin-kube's `pod-cidr` service (network/pod-cidr-service.ts podCidrs). */
export const podCidrService = defineService({
  capability: PodCidr,
  inject: { host: Tokens.Host, config: Tokens.Config, identity: ArcIdentity, azure: AzureCredential },
  create: ({ host, config, identity, azure }): PodCidrService => {
    const real = once(async () => (await impl()).podCidrs(host, config, identity, azure));
    return { podCIDRs: async () => (await real()).podCIDRs() };
  },
});

/**
 * plugin-kube's `service-proxy` service: the plan for a cluster (mode from `kubernetes.serviceProxy` or the network
 * profile; AKS's cluster label when AKS's kube-proxy serves the node). Pure: the kubelet asks it for node labels.
 * Its plan is synchronous, so it stays here, with the small pure module that makes it.
 */
export const serviceProxyService = defineService({
  capability: ServiceProxy,
  inject: { config: Tokens.Config },
  create: ({ config }) => ({ plan: (cluster) => proxyPlan(config, cluster) }),
});

/** The `node-maintenance` service of plugin-kube (maintenance/service.ts nodeMaintenance). */
export function createMaintenanceService(options: MaintenanceOptions = {}) {
  return defineService({
    capability: NodeMaintenance,
    inject: { host: Tokens.Host, config: Tokens.Config, identity: ArcIdentity, azure: AzureCredential },
    create: ({ host, config, identity, azure }): NodeMaintenanceService => {
      // Bad settings fail the service's creation, as they did when it was created here.
      kubeSettings(config);
      const real = once(async () => (await impl()).nodeMaintenance(host, config, identity, azure, options));
      return {
        upgradePlan: async (requested) => (await real()).upgradePlan(requested),
        begin: async () => (await real()).begin(),
        waitReady: async (version) => (await real()).waitReady(version),
        end: async () => (await real()).end(),
      };
    },
  });
}

export const nodeMaintenanceService = createMaintenanceService();
