// Builds flexnode configs for tests in a booted machine: the upstream shape with valid ids, pointed at the
// host-side mirror, with the Debian-built artifacts' versions and checksums pinned from the mirror manifest.
import type { ArtifactManifest } from '../mirror/build-artifacts.js';

export const SUBSCRIPTION = '11111111-2222-3333-4444-555555555555';
export const TENANT = '66666666-7777-8888-9999-000000000000';

/** A config that installs the runtime and CNI from `mirrorUrl`; extend it for Arc and the kubelet. */
export function nodeConfig(manifest: ArtifactManifest, mirrorUrl: string, overrides: Record<string, unknown> = {}): Record<string, any> {
  const pin = (name: string) => {
    const a = manifest.get(name);
    return { version: a.version, sha256: a.sha256 };
  };
  return {
    azure: {
      subscriptionId: SUBSCRIPTION,
      tenantId: TENANT,
      cloud: 'AzurePublicCloud',
      arc: { machineName: 'box-node', resourceGroup: 'rg-edge', location: 'westus2', autoRoleAssignment: true },
      targetCluster: {
        resourceId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-1`,
        location: 'westus2',
      },
    },
    agent: { logLevel: 'debug', logDir: '/var/log/aks-flex-node' },
    artifacts: { mirror: mirrorUrl },
    containerd: pin('containerd'),
    runc: pin('runc'),
    cni: { ...pin('cni-plugins'), podCIDR: '10.88.0.0/24' },
    // Without Azure in the run, public Azure is unreachable from the box: the full-cycle test points
    // azure.endpoints at the fakes instead and keeps this check.
    pluginConfig: { '@flexnode/plugin-kube': { skipPreflight: ['azure-endpoint'] } },
    ...overrides,
  };
}
