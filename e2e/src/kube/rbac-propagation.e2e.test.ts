// The node identity's first requests right after arc.roles granted its roles, as real AKS answers them: the grant is
// listed by ARM at once but reaches the cluster's authorizer (guard's CheckAccess) later ("New role assignments can
// take up to 5 minutes to propagate and be updated by the authorization server": aks-docs manage-azure-rbac.md), and
// guard caches the denial it gave meanwhile (--azure.cache-ttl-minutes, kubeguard/guard CACHING.md). Both lags are
// scaled down here (FakeArm authorizationPropagationMs, the fake API server's guardCacheMs). kube.pod-cidr registers
// the Node as the node identity (arc-msi) before the kubelet: it must wait the lag out, not fail the bootstrap.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { AzureContext, NodeIdentity } from '@flexnode/sdk';
import { testConfig, typicalServices } from '@flexnode/sdk/testing';
import { createCredentialsStep, createPodCidrStep, proxyPlan, readClusterFromArm } from '@flexnode/plugin-kube';
import { cniService } from '@flexnode/plugin-cni';
import { nodeComponents } from '@flexnode/plugin-arc';
import { ContainerRuntime } from '@flexnode/sdk';
import { FakeArm } from '../fakes/fake-arm.js';
import { FakeHimds } from '../fakes/fake-himds.js';
import { FakeKubeApi } from '../fakes/fake-kube-api.js';
import { grantNodeRoles, himdsIdentity, operator } from './kubelet-rig.js';
import { realHost, skipUnlessRealHost } from './real-host.js';

const SUB = '00000000-0000-0000-0000-000000000002';
const RG = 'flex-rg';
const CLUSTER = 'flex-aks-rbac';
const VERSION = '1.31.2';
const NODE = 'edge-rbac';
const PROPAGATION_MS = 2500;
const GUARD_CACHE_MS = 1500;

describe('Azure RBAC propagation: the node identity denied right after its grant (fake ARM + fake API server + fake HIMDS)', function () {
  this.timeout(60_000);
  let tmp = '';
  let arm: FakeArm;
  let kube: FakeKubeApi;
  let himds: FakeHimds;
  let identity: NodeIdentity;
  let azure: AzureContext;
  let op: Awaited<ReturnType<typeof operator>>;
  let clusterId = '';

  before(async function () {
    await skipUnlessRealHost(this);
    tmp = mkdtempSync(join(tmpdir(), 'flexnode-rbac-e2e-'));
    himds = await FakeHimds.start({ keyDir: join(tmp, 'keys') });
    kube = await FakeKubeApi.start({ version: `v${VERSION}`, podCidr: { clusterCidr: '10.244.0.0/16' }, guardCacheMs: GUARD_CACHE_MS });
    arm = await FakeArm.start({ authorizationPropagationMs: PROPAGATION_MS });
    arm.addCluster({
      subscriptionId: SUB,
      resourceGroup: RG,
      name: CLUSTER,
      kube,
      kubernetesVersion: VERSION,
      networkProfile: { serviceCidr: '10.96.0.0/16' },
    });
    clusterId = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/${CLUSTER}`;
    identity = himdsIdentity(himds, join(tmp, 'keys'), tmp);
    op = await operator(arm, clusterId);
    azure = op.azure;
  });

  after(async () => {
    await Promise.all([arm?.stop(), kube?.stop(), himds?.stop(), op?.entra.stop()].map((p) => p?.catch(() => undefined)));
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("kube.pod-cidr waits until the grant reaches the cluster and guard's cached denial expires, then registers the Node", async () => {
    const config = testConfig({
      azure: { ...testConfig().azure, targetCluster: { resourceId: clusterId } },
      kubernetes: { version: VERSION },
      node: { name: NODE },
      pluginConfig: { '@flexnode/plugin-kube': { rbacPropagationSeconds: 30 } },
    });
    const root = join(tmp, 'root');
    mkdirSync(join(root, 'var/lib'), { recursive: true });
    const handle = await realHost(root, join(root, 'var/lib/flexnode'));
    const services = {
      azure,
      identity,
      runtime: typicalServices().get(ContainerRuntime),
      cni: cniService.create({ config }),
      proxy: { plan: (c: Parameters<typeof proxyPlan>[1]) => proxyPlan(config, c) },
    };
    // arc.roles has just granted the node roles: ARM lists them, the cluster's authorizer does not know them yet.
    grantNodeRoles(arm, { id: clusterId, name: CLUSTER, resourceGroup: RG, subscriptionId: SUB }, VERSION, himds.principalId, nodeComponents(config));
    const granted = Date.now();
    for (const def of [createCredentialsStep(readClusterFromArm), createPodCidrStep({ readCluster: readClusterFromArm, pollMs: 200 })]) {
      await def.create({ host: handle.host(def.id), config, ...services }).install();
    }
    expect(Date.now() - granted, 'waited for the grant').to.be.at.least(PROPAGATION_MS);
    expect(kube.node(NODE)?.spec?.podCIDR).to.match(/^10\.244\.\d+\.0\/24$/);
    const asNode = kube.audit.filter((e) => e.user === himds.principalId && e.resource === 'nodes').map((e) => e.code);
    expect(asNode[0], 'the first request, before the grant reached the cluster').to.equal(403);
    expect(asNode.filter((c) => c === 403).length, 'asked again while denied').to.be.at.least(2);
    expect(asNode).to.include(201);
    const warning = handle.lines.find((l) => l.level === 'warn' && l.message.includes('denies the node identity'));
    expect(warning?.message).to.include('Access denied for action').and.include('rbacPropagationSeconds');
    await handle.dispose();
  });
});
