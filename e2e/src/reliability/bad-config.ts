// Area 4: bad config. Core's corpus of invalid configs (bad-configs.fixture) plus the kinds the issue lists that
// it lacks, each run through the real CLI's `bootstrap` against a sandbox root: exit code 2, the field's path
// (and a "did you mean" for misspelt fields) in the message, and nothing changed under the root.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
// Core's corpus (compiled): each a full valid config with one thing broken, and the path the error must name.
import { badConfigs, fullConfig } from '@flexnode/core/test-fixtures';
import { addSecret, Checks, diffTrees, excerpt, pool, rowOf, runCli, Sandbox, type Row } from './lib.js';

type Mutation = [name: string, mutate: (c: Record<string, any>) => unknown, path: string, message: RegExp];

const AKS = '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks';

/** What the fixture does not cover yet: resource ids, GUIDs, clouds, CIDRs, versions, misspelt fields. */
const EXTRA: Mutation[] = [
  [
    'resource id without resource group',
    (c) => (c.azure.targetCluster.resourceId = '/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.ContainerService/managedClusters/aks'),
    'azure.targetCluster.resourceId',
    /AKS resource id/,
  ],
  ['resource id with a trailing slash', (c) => (c.azure.targetCluster.resourceId = `${AKS}/`), 'azure.targetCluster.resourceId', /AKS resource id/],
  [
    'resource id with a bad subscription',
    (c) => (c.azure.targetCluster.resourceId = AKS.replace('11111111-2222-3333-4444-555555555555', 'not-a-guid')),
    'azure.targetCluster.resourceId',
    /AKS resource id/,
  ],
  ['resource id without a name', (c) => (c.azure.targetCluster.resourceId = AKS.replace(/aks$/, '')), 'azure.targetCluster.resourceId', /AKS resource id/],
  ['resource id with a query', (c) => (c.azure.targetCluster.resourceId = `${AKS}?api-version=1`), 'azure.targetCluster.resourceId', /AKS resource id/],
  ['resource id a number', (c) => (c.azure.targetCluster.resourceId = 5), 'azure.targetCluster.resourceId', /expected string/],
  ['GUID in braces', (c) => (c.azure.subscriptionId = '{11111111-2222-3333-4444-555555555555}'), 'azure.subscriptionId', /GUID/],
  ['GUID with non-hex digits', (c) => (c.azure.tenantId = 'gggggggg-7777-8888-9999-000000000000'), 'azure.tenantId', /GUID/],
  ['GUID without dashes', (c) => (c.azure.subscriptionId = '11111111222233334444555555555555'), 'azure.subscriptionId', /GUID/],
  ['GUID with a trailing space', (c) => (c.azure.tenantId = '66666666-7777-8888-9999-000000000000 '), 'azure.tenantId', /GUID/],
  ['cloud in lower case', (c) => (c.azure.cloud = 'azurepubliccloud'), 'azure.cloud', /one of "AzurePublicCloud"/],
  ['cloud as azcmagent names it', (c) => (c.azure.cloud = 'AzureCloud'), 'azure.cloud', /one of "AzurePublicCloud"/],
  ['pod CIDR IPv6', (c) => (c.cni.podCIDR = 'fd00::/64'), 'cni.podCIDR', /IPv4 CIDR/],
  ['pod CIDR /33', (c) => (c.cni.podCIDR = '10.244.0.0/33'), 'cni.podCIDR', /IPv4 CIDR/],
  ['pod CIDR negative prefix', (c) => (c.cni.podCIDR = '10.244.0.0/-1'), 'cni.podCIDR', /IPv4 CIDR/],
  ['pod CIDR with a leading zero', (c) => (c.cni.podCIDR = '010.244.0.0/24'), 'cni.podCIDR', /IPv4 CIDR/],
  ['pod CIDR with a space', (c) => (c.cni.podCIDR = '10.244.0.0 /24'), 'cni.podCIDR', /IPv4 CIDR/],
  ['kubernetes version with four parts', (c) => (c.kubernetes.version = '1.30.4.1'), 'kubernetes.version', /version such as/],
  ['kubernetes version a number', (c) => (c.kubernetes.version = 1.3), 'kubernetes.version', /expected string/],
  ['runc version a word', (c) => (c.runc.version = 'stable'), 'runc.version', /version such as/],
  ['cni version empty', (c) => (c.cni.version = ''), 'cni.version', /version such as/],
  [
    'misspelt targetCluster',
    (c) => ((c.azure.targetcluster = c.azure.targetCluster), delete c.azure.targetCluster),
    'azure.targetcluster',
    /did you mean "targetCluster"/,
  ],
  [
    'misspelt servicePrincipal',
    (c) => ((c.azure.servicePrinciple = c.azure.servicePrincipal), delete c.azure.servicePrincipal),
    'azure.servicePrinciple',
    /did you mean "servicePrincipal"/,
  ],
  ['misspelt podCIDR', (c) => ((c.cni.podCidr = c.cni.podCIDR), delete c.cni.podCIDR), 'cni.podCidr', /did you mean "podCIDR"/],
  [
    'misspelt machineName',
    (c) => ((c.azure.arc.machinename = c.azure.arc.machineName), delete c.azure.arc.machineName),
    'azure.arc.machinename',
    /did you mean "machineName"/,
  ],
  [
    'misspelt kubernetes.version',
    (c) => ((c.kubernetes.verison = c.kubernetes.version), delete c.kubernetes.version),
    'kubernetes.verison',
    /did you mean "version"/,
  ],
  [
    'misspelt clientSecretFile',
    (c) => (c.azure.servicePrincipal.clientSecretfile = '/etc/flexnode/secret'),
    'azure.servicePrincipal.clientSecretfile',
    /did you mean "clientSecretFile"/,
  ],
  ['region in upper case', (c) => (c.azure.targetCluster.location = 'WestUS2'), 'azure.targetCluster.location', /region name/],
  ['maxPods too large', (c) => (c.node.maxPods = 100000), 'node.maxPods', /<= 1000/],
  ['taint with an unknown effect', (c) => (c.node.taints = ['a=b:Sometimes']), 'node.taints[0]', /NoSchedule/],
];

interface BadCase {
  name: string;
  config: unknown;
  path: string;
  message: RegExp;
  /** Raw file content instead of JSON of `config`. */
  raw?: string;
}

function corpus(): BadCase[] {
  const extra = EXTRA.map(([name, mutate, path, message]) => {
    const config = fullConfig();
    mutate(config);
    return { name, config, path, message };
  });
  return [
    ...badConfigs(),
    ...extra,
    { name: 'not JSON', config: undefined, raw: '{"azure": {"subscriptionId": ', path: '', message: /is not valid JSON/ },
    { name: 'config is an array', config: [], path: '(root)', message: /expected object, got array/ },
  ];
}

export async function configArea(_config: Record<string, unknown>, parallel: number): Promise<Row[]> {
  addSecret(fullConfig().azure.servicePrincipal.clientSecret);
  const cases = corpus();
  const sb = await Sandbox.create('bad-config', {});
  const pristine = await sb.snapshot('restore');
  const checks = await pool(cases, parallel, async (bad, i) => {
    const c = new Checks(`bad config "${bad.name}"`);
    const path = join(sb.dir, `bad-${i}.json`);
    await writeFile(path, bad.raw ?? JSON.stringify(bad.config, null, 2), { mode: 0o600 });
    const run = await runCli(['bootstrap', '--config', path, '--root', sb.root]);
    const text = run.stderr.replace(/\s+/g, ' ');
    c.ok(run.code === 2, `exit ${run.code} (expected 2): ${excerpt(run)}`);
    c.ok(bad.path === '' || text.includes(`${bad.path}: `), `the message does not name ${bad.path}: ${excerpt(run)}`);
    c.ok(bad.message.test(text), `the message does not match ${bad.message}: ${excerpt(run)}`);
    c.ok(!/\n\s+at .+:\d+:\d+\)?\n/.test(run.stderr), 'a stack trace was printed');
    const now = await sb.snapshot('restore');
    c.ok(JSON.stringify(now) === JSON.stringify(pristine), `the root changed: ${diffTrees(pristine, now).join(', ')}`);
    return c;
  });
  await sb.dispose((p) => /\/bad-\d+\.json$/.test(p));
  const fixture = checks.slice(0, badConfigs().length);
  const extra = checks.slice(badConfigs().length);
  return [
    rowOf('config', `core's corpus (bad-configs.fixture): exit 2, path named, root untouched`, fixture),
    rowOf('config', 'ids, GUIDs, clouds, CIDRs, versions, misspelt fields, not JSON', extra, `corpus ${checks.length}`),
  ];
}
