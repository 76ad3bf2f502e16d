import { fullConfig } from './valid-config.fixture.js';

/** One invalid config: how it is broken, and the field path the error must name. */
export interface BadConfig {
  name: string;
  config: unknown;
  path: string;
  message: RegExp;
}

type Mutation = [name: string, mutate: (c: Record<string, any>) => unknown, path: string, message: RegExp];

const mutations: Mutation[] = [
  ['missing azure', (c) => delete c.azure, 'azure', /required/],
  ['missing subscriptionId', (c) => delete c.azure.subscriptionId, 'azure.subscriptionId', /required/],
  ['missing tenantId', (c) => delete c.azure.tenantId, 'azure.tenantId', /required/],
  ['missing targetCluster', (c) => delete c.azure.targetCluster, 'azure.targetCluster', /required/],
  ['missing targetCluster.resourceId', (c) => delete c.azure.targetCluster.resourceId, 'azure.targetCluster.resourceId', /required/],
  ['subscriptionId not a GUID', (c) => (c.azure.subscriptionId = 'not-a-guid'), 'azure.subscriptionId', /GUID/],
  ['tenantId a number', (c) => (c.azure.tenantId = 42), 'azure.tenantId', /expected string, got number/],
  ['GUID too short', (c) => (c.azure.tenantId = '1111-2222'), 'azure.tenantId', /GUID/],
  ['unknown cloud', (c) => (c.azure.cloud = 'AzureMoonCloud'), 'azure.cloud', /one of "AzurePublicCloud"/],
  ['servicePrincipal without clientId', (c) => delete c.azure.servicePrincipal.clientId, 'azure.servicePrincipal.clientId', /required/],
  ['clientId not a GUID', (c) => (c.azure.servicePrincipal.clientId = 'app'), 'azure.servicePrincipal.clientId', /GUID/],
  ['empty clientSecret', (c) => (c.azure.servicePrincipal.clientSecret = ''), 'azure.servicePrincipal.clientSecret', /at least 1/],
  ['relative clientSecretFile', (c) => (c.azure.servicePrincipal.clientSecretFile = 'secret.txt'), 'azure.servicePrincipal.clientSecretFile', /absolute path/],
  ['bad machineName', (c) => (c.azure.arc.machineName = 'bad name!'), 'azure.arc.machineName', /letters, digits/],
  ['tags not strings', (c) => (c.azure.arc.tags = { env: 1 }), 'azure.arc.tags.env', /expected string/],
  ['tag value with a comma', (c) => (c.azure.arc.tags = { owner: 'a,b' }), 'azure.arc.tags.owner', /without a comma/],
  ['tag name with an equals sign', (c) => (c.azure.arc.tags = { 'a=b': 'v' }), 'azure.arc.tags', /tag name/],
  ['resourceGroup ending in a dot', (c) => (c.azure.arc.resourceGroup = 'rg.'), 'azure.arc.resourceGroup', /resource group name/],
  ['location with spaces', (c) => (c.azure.arc.location = 'West US'), 'azure.arc.location', /region name/],
  ['autoRoleAssignment a string', (c) => (c.azure.arc.autoRoleAssignment = 'yes'), 'azure.arc.autoRoleAssignment', /expected boolean/],
  [
    'resourceId of another type',
    (c) =>
      (c.azure.targetCluster.resourceId =
        '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm'),
    'azure.targetCluster.resourceId',
    /AKS resource id/,
  ],
  ['resourceId without subscription', (c) => (c.azure.targetCluster.resourceId = 'managedClusters/aks'), 'azure.targetCluster.resourceId', /AKS resource id/],
  [
    'misspelt azure field',
    (c) => ((c.azure.subscriptionID = c.azure.subscriptionId), delete c.azure.subscriptionId),
    'azure.subscriptionID',
    /did you mean "subscriptionId"/,
  ],
  ['unknown top-level section', (c) => (c.kubelet = {}), 'kubelet', /not a known field/],
  ['misspelt agent field', (c) => (c.agent.loglevel = 'info'), 'agent.loglevel', /did you mean "logLevel"/],
  ['unknown log level', (c) => (c.agent.logLevel = 'verbose'), 'agent.logLevel', /one of "debug"/],
  ['relative logDir', (c) => (c.agent.logDir = 'logs'), 'agent.logDir', /absolute path/],
  ['interval too short', (c) => (c.agent.intervalSeconds = 1), 'agent.intervalSeconds', />= 5/],
  ['interval not an integer', (c) => (c.agent.intervalSeconds = 2.5), 'agent.intervalSeconds', /integer/],
  ['kubernetes version word', (c) => (c.kubernetes.version = 'latest'), 'kubernetes.version', /version such as/],
  ['kubernetes version two parts', (c) => (c.kubernetes.version = '1.30'), 'kubernetes.version', /version such as/],
  ['kubernetes version with a leading zero', (c) => (c.kubernetes.version = '01.30.4'), 'kubernetes.version', /version such as/],
  ['containerd version with spaces', (c) => (c.containerd.version = '1.7 .20'), 'containerd.version', /version such as/],
  ['sha256 too short', (c) => (c.containerd.sha256 = 'abc123'), 'containerd.sha256', /sha256/],
  ['sha256 for an unknown arch', (c) => (c.runc.sha256 = { s390x: 'a'.repeat(64) }), 'runc.sha256', /sha256/],
  ['runc url not http', (c) => (c.runc.url = 'ftp://example.com/runc'), 'runc.url', /http\(s\) URL/],
  ['pause image with spaces', (c) => (c.containerd.pauseImage = 'pause image'), 'containerd.pauseImage', /image reference/],
  ['metrics address without port', (c) => (c.containerd.metricsAddress = '0.0.0.0'), 'containerd.metricsAddress', /host:port/],
  ['unknown containerd source', (c) => (c.containerd.source = 'snap'), 'containerd.source', /one of "release", "apt"/],
  ['pod CIDR with host bits', (c) => (c.cni.podCIDR = '10.244.3.1/24'), 'cni.podCIDR', /IPv4 CIDR/],
  ['pod CIDR not a CIDR', (c) => (c.cni.podCIDR = '10.244.0.0'), 'cni.podCIDR', /IPv4 CIDR/],
  ['pod CIDR octet out of range', (c) => (c.cni.podCIDR = '10.300.0.0/16'), 'cni.podCIDR', /IPv4 CIDR/],
  ['pod CIDR pool with host bits', (c) => (c.cni.podCIDRPool = { cidr: '10.90.0.1/16' }), 'cni.podCIDRPool.cidr', /IPv4 CIDR/],
  ['pod CIDR pool share too small', (c) => (c.cni.podCIDRPool = { cidr: '10.90.0.0/16', nodeMaskSize: 30 }), 'cni.podCIDRPool.nodeMaskSize', /<= 28/],
  ['unknown service proxy mode', (c) => (c.kubernetes.serviceProxy = 'ipvs'), 'kubernetes.serviceProxy', /one of "auto", "aks", "flexnode", "none"/],
  ['maxPods zero', (c) => (c.node.maxPods = 0), 'node.maxPods', />= 1/],
  ['maxPods a string', (c) => (c.node.maxPods = '110'), 'node.maxPods', /expected integer/],
  ['label value too long', (c) => (c.node.labels.team = 'x'.repeat(64)), 'node.labels.team', /label value/],
  ['bad label key', (c) => (c.node.labels['bad key'] = 'v'), 'node.labels', /invalid key/],
  ['taint without effect', (c) => (c.node.taints = ['edge=true']), 'node.taints[0]', /NoSchedule/],
  ['taint key with a shell expansion', (c) => (c.node.taints = ['$(reboot)=x:NoSchedule']), 'node.taints[0]', /label key/],
  ['taint key with two slashes', (c) => (c.node.taints = ['a/b/c=d:NoSchedule']), 'node.taints[0]', /label key/],
  ['taint value with a comma', (c) => (c.node.taints = ['a=b,c:NoSchedule']), 'node.taints[0]', /label value/],
  ['metrics port out of range', (c) => (c.containerd.metricsAddress = '0.0.0.0:99999'), 'containerd.metricsAddress', /port 1-65535/],
  ['metrics port 0', (c) => (c.containerd.metricsAddress = ':0'), 'containerd.metricsAddress', /port 1-65535/],
  ['pod CIDR in loopback', (c) => (c.cni.podCIDR = '127.0.0.0/24'), 'cni.podCIDR', /within 127\.0\.0\.0\/8/],
  ['pod CIDR in multicast', (c) => (c.cni.podCIDR = '224.0.0.0/24'), 'cni.podCIDR', /multicast/],
  ['pod CIDR pool covering 0.0.0.0/8', (c) => (c.cni.podCIDRPool = { cidr: '0.0.0.0/6' }), 'cni.podCIDRPool.cidr', /within 0\.0\.0\.0\/8/],
  [
    'pod CIDR pool share wider than the pool',
    (c) => (c.cni.podCIDRPool = { cidr: '10.90.0.0/24', nodeMaskSize: 16 }),
    'cni.podCIDRPool.nodeMaskSize',
    /no shorter than the pool's \(\/24\), got 16/,
  ],
  [
    'evictionHard value a number',
    (c) => (c.node.kubelet.evictionHard = { 'memory.available': 100 }),
    'node.kubelet.evictionHard.memory.available',
    /expected string/,
  ],
  [
    'evictionHard value no quantity',
    (c) => (c.node.kubelet.evictionHard = { 'memory.available': 'lots' }),
    'node.kubelet.evictionHard.memory.available',
    /a quantity above zero such as 100Mi, or a percentage up to 100%/,
  ],
  [
    'evictionHard quantity zero (the kubelet: must be positive)',
    (c) => (c.node.kubelet.evictionHard = { 'memory.available': '0Mi' }),
    'node.kubelet.evictionHard.memory.available',
    /a quantity above zero/,
  ],
  [
    'evictionHard signal the kubelet does not know',
    (c) => (c.node.kubelet.evictionHard = { 'memory.free': '100Mi' }),
    'node.kubelet.evictionHard',
    /an eviction signal such as memory.available/,
  ],
  ['kubeReserved negative', (c) => (c.node.kubelet.kubeReserved = { cpu: '-1' }), 'node.kubelet.kubeReserved.cpu', /a non-negative Kubernetes quantity/],
  [
    'kubeReserved resource the kubelet cannot reserve',
    (c) => (c.node.kubelet.kubeReserved = { gpu: '1' }),
    'node.kubelet.kubeReserved',
    /cpu, memory, ephemeral-storage or pid/,
  ],
  ['imageGC threshold over 100', (c) => (c.node.kubelet.imageGCHighThreshold = 101), 'node.kubelet.imageGCHighThreshold', /<= 100/],
  [
    'imageGC low threshold not below the high one',
    (c) => ((c.node.kubelet.imageGCHighThreshold = 70), (c.node.kubelet.imageGCLowThreshold = 70)),
    'node.kubelet.imageGCLowThreshold',
    /less than imageGCHighThreshold \(70\), got 70/,
  ],
  [
    "imageGC high threshold at 0, the low one the kubelet's default",
    (c) => ((c.node.kubelet.imageGCHighThreshold = 0), delete c.node.kubelet.imageGCLowThreshold),
    'node.kubelet.imageGCHighThreshold',
    /more than imageGCLowThreshold \(80, the kubelet's default\), got 0/,
  ],
  [
    "imageGC low threshold above the kubelet's default high one",
    (c) => (delete c.node.kubelet.imageGCHighThreshold, (c.node.kubelet.imageGCLowThreshold = 90)),
    'node.kubelet.imageGCLowThreshold',
    /less than imageGCHighThreshold \(85, the kubelet's default\), got 90/,
  ],
  ['relative CNI bin dir', (c) => (c.paths.cni.binDir = 'opt/cni/bin'), 'paths.cni.binDir', /absolute path/],
  ['mirror not a URL', (c) => (c.artifacts.mirror = 'mirror.internal'), 'artifacts.mirror', /http\(s\) URL/],
  [
    'mirror with a query (a SAS token)',
    (c) => (c.artifacts.mirror = 'https://m.blob.core.windows.net/flexnode?sv=1&sig=x'),
    'artifacts.mirror',
    /no query or fragment/,
  ],
  [
    'ARM endpoint with a fragment',
    (c) => (c.azure.endpoints = { resourceManager: 'https://arm.internal/#x' }),
    'azure.endpoints.resourceManager',
    /no query or fragment/,
  ],
  ['proxy not a URL', (c) => (c.proxy.https = 'proxy:3128'), 'proxy.https', /http\(s\) URL/],
  [
    'proxy password with an unencoded "/" (the URL names another host)',
    (c) => (c.proxy.https = 'http://user:12/ab@proxy.example:3128'),
    'proxy.https',
    /nothing after its port.*percent-encoded/,
  ],
  ['proxy with a path', (c) => (c.proxy.http = 'http://proxy.example:3128/path'), 'proxy.http', /nothing after its port/],
  ['plugin choice not a package name', (c) => (c.plugins.cni = 'Not A Package'), 'plugins.cni', /npm package name/],
  ['azure is an array', (c) => (c.azure = []), 'azure', /expected object, got array/],
  ['agent is null', (c) => (c.agent = null), 'agent', /expected object, got null(?! null)/],
  [
    'Arc off with the default kubelet auth (arc-msi)',
    (c) => ((c.azure.arc.enabled = false), delete c.kubernetes.auth),
    'azure.arc.enabled',
    /no Arc identity .*defaults to arc-msi.*"bootstrap-token"/,
  ],
  [
    'Arc off with kubernetes.auth arc-msi',
    (c) => ((c.azure.arc.enabled = false), (c.kubernetes.auth = 'arc-msi')),
    'kubernetes.auth',
    /no Arc identity .*is arc-msi/,
  ],
  ['node name uppercase', (c) => (c.node.name = 'Edge_01'), 'node.name', /DNS subdomain/],
];

/** The corpus of invalid configs: each a full valid config with one thing broken. */
export function badConfigs(): BadConfig[] {
  return mutations.map(([name, mutate, path, message]) => {
    const config = fullConfig();
    mutate(config);
    return { name, config, path, message };
  });
}
