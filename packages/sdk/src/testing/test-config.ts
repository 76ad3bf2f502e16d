import type { FlexnodeConfig } from '../config.js';

/**
 * A minimal valid config for tests, in the upstream shape, merged (one level deep per section) with
 * `overrides`.
 */
export function testConfig(overrides: Partial<FlexnodeConfig> = {}): FlexnodeConfig {
  const base: FlexnodeConfig = {
    azure: {
      subscriptionId: '00000000-0000-0000-0000-000000000001',
      tenantId: '00000000-0000-0000-0000-000000000002',
      cloud: 'AzurePublicCloud',
      arc: { machineName: 'test-node', resourceGroup: 'test-rg', location: 'westus', autoRoleAssignment: true },
      targetCluster: {
        resourceId:
          '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/test-rg/providers/Microsoft.ContainerService/managedClusters/test-cluster',
        location: 'westus',
      },
    },
    agent: { logLevel: 'info', logDir: '/var/log/aks-flex-node' },
  };
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = merged[key];
    merged[key] =
      value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object'
        ? { ...(current as object), ...(value as object) }
        : value;
  }
  return merged as unknown as FlexnodeConfig;
}
