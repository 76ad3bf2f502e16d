import {
  ArcIdentity,
  AzureCredential,
  ServiceProxy,
  type AzureContext,
  type CniService,
  type ContainerRuntimeService,
  type NodeIdentity,
  type RunContext,
  type ServiceProxyService,
} from '@flexnode/sdk';
import { testConfig } from '@flexnode/sdk/testing';
import { proxyPlan } from './network/service-proxy.js';
import type { ClusterFacts, ClusterReader } from './cluster/cluster.js';

/** A throwaway self-signed-looking PEM (content is not parsed by the steps, only carried). */
export const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBfakeCAfortests\n-----END CERTIFICATE-----\n';

export const FACTS: ClusterFacts = {
  resourceId: '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/test-rg/providers/Microsoft.ContainerService/managedClusters/test-cluster',
  name: 'test-cluster',
  kubernetesVersion: '1.30.4',
  fqdn: 'test-cluster-abc.hcp.westus.azmk8s.io',
  aad: true,
  azureRbac: true,
  serviceCidr: '10.20.0.0/16',
  dnsServiceIP: '10.20.0.10',
  server: 'https://test-cluster-abc.hcp.westus.azmk8s.io:443',
  caPem: CA_PEM,
};

/** A ClusterReader answering `facts` and counting its calls. */
export function fakeReader(facts: Partial<ClusterFacts> = {}): ClusterReader & { calls: number } {
  const reader = (async () => {
    reader.calls++;
    return { ...FACTS, ...facts };
  }) as unknown as ClusterReader & { calls: number };
  reader.calls = 0;
  return reader;
}

export const fakeAzure: AzureContext = {
  credential: { getToken: async () => ({ token: 'operator-token', expiresOnTimestamp: Date.now() + 3600_000 }) },
  subscriptionId: '00000000-0000-0000-0000-000000000001',
  tenantId: '00000000-0000-0000-0000-000000000002',
  resourceManagerEndpoint: 'https://management.azure.com',
  armScope: 'https://management.azure.com/.default',
  clientOptions: {},
};

export const fakeIdentity: NodeIdentity & { scopes: string[] } = {
  scopes: [],
  async getToken(scope) {
    fakeIdentity.scopes.push(scope);
    return { token: 'node-token', expiresOnTimestamp: Date.now() + 3600_000 };
  },
  principalId: async () => '11111111-2222-3333-4444-555555555555',
  execCredential: (resource) => ({
    command: '/usr/local/bin/flexnode',
    args: ['token', '--resource', resource],
    env: { FLEXNODE_CONFIG: '/etc/aks-flex-node/config.json' },
  }),
};

/** The services the Azure-facing steps inject. */
/** containerd's container-runtime service, as plugin-containerd provides it. */
export const containerdRuntime: ContainerRuntimeService = {
  criEndpoint: 'unix:///run/containerd/containerd.sock',
  unit: 'containerd.service',
  cgroupDriver: 'systemd',
};

/** plugin-kube's own service-proxy plan for a config without kubernetes.serviceProxy (by the network profile). */
export const defaultProxy: ServiceProxyService = { plan: (cluster) => proxyPlan(testConfig(), cluster) };

/** The services by the names the kube steps inject them under. */
export const serviceDeps = (run: Partial<RunContext> = {}) => ({
  azure: fakeAzure as AzureContext,
  identity: fakeIdentity as NodeIdentity,
  runtime: containerdRuntime,
  proxy: defaultProxy,
  cni: { binDir: '/opt/cni/bin', confDir: '/etc/cni/net.d' } satisfies CniService,
  run: { command: 'bootstrap', force: false, ...run } satisfies RunContext,
});

export const azureServices = () =>
  new Map<symbol, unknown>([
    [AzureCredential, fakeAzure],
    [ArcIdentity, fakeIdentity],
    [ServiceProxy, defaultProxy],
  ]);
