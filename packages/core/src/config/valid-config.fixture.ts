/** A complete valid config in the upstream shape plus every flexnode extension, for tests. */
export function fullConfig(): Record<string, any> {
  return {
    azure: {
      subscriptionId: '11111111-2222-3333-4444-555555555555',
      tenantId: '66666666-7777-8888-9999-000000000000',
      cloud: 'AzurePublicCloud',
      servicePrincipal: { clientId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', clientSecret: 's3cr3t-value-never-logged' },
      arc: { machineName: 'edge-01', tags: { environment: 'edge' }, resourceGroup: 'rg-edge', location: 'westus2', autoRoleAssignment: true },
      targetCluster: {
        resourceId: '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-1',
        location: 'westus2',
      },
    },
    agent: { logLevel: 'info', logDir: '/var/log/aks-flex-node', intervalSeconds: 60 },
    kubernetes: { version: '1.30.4', urlTemplate: 'https://acs-mirror.azureedge.net/kubernetes/v%s/binaries/kubernetes-node-linux-%s.tar.gz' },
    runc: { version: '1.1.12', url: 'https://example.com/runc' },
    containerd: { version: '1.7.20', pauseImage: 'mcr.microsoft.com/oss/kubernetes/pause:3.9', metricsAddress: '0.0.0.0:10257' },
    cni: { version: '1.5.1', podCIDR: '10.244.3.0/24' },
    node: {
      maxPods: 110,
      labels: { 'kubernetes.azure.com/managed': 'false', team: 'edge' },
      taints: ['edge=true:NoSchedule'],
      kubelet: {
        kubeReserved: { cpu: '100m', memory: '500Mi' },
        evictionHard: { 'memory.available': '100Mi' },
        imageGCHighThreshold: 85,
        imageGCLowThreshold: 80,
      },
    },
    paths: { kubernetes: { kubeletDir: '/var/lib/kubelet' }, cni: { binDir: '/opt/cni/bin', confDir: '/etc/cni/net.d' } },
    artifacts: { mirror: 'http://mirror.internal:8080/flexnode' },
    proxy: { https: 'http://proxy:3128', noProxy: 'localhost,127.0.0.1' },
    plugins: { cni: '@flexnode/plugin-cni' },
  };
}
