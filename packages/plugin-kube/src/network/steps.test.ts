import { expect } from 'chai';
import {
  AzureError,
  ConfigError,
  FlexnodeError,
  isFlexnodeError,
  StepError,
  type AzureContext,
  type CniService,
  type FlexnodeConfig,
  type ServiceProxyService,
} from '@flexnode/sdk';
import { MemoryHost, testConfig } from '@flexnode/sdk/testing';
import type { ClusterFacts, ClusterReader } from '../cluster/cluster.js';
import { CA_PEM, fakeAzure, fakeIdentity, fakeReader } from '../fixtures.test.helpers.js';
import { testPki, type TestPki } from '../test-pki.test.helpers.js';
import type { ApiServerProbe } from './api-server.js';
import { createNetworkStep, createNodeStep, createPodCidrStep } from '../steps.js';
import { NETWORK_RECORD } from './step.js';
import { NODE_LABELS_RECORD } from './node-step.js';
import { podCidrs } from './pod-cidr-service.js';
import { ipam, MemoryNodes } from './nodes.test.helpers.js';
import { EXCLUDE_LB_LABEL } from './registration.js';
import { AKS_CLUSTER_LABEL, proxyPlan } from './service-proxy.js';

const RG = 'MC_test-rg_test-cluster_westus';
const KUBENET: Partial<ClusterFacts> = {
  networkPlugin: 'kubenet',
  networkDataplane: 'azure',
  podCidrs: ['10.244.0.0/16'],
  serviceCidrs: ['10.20.0.0/16'],
  nodeResourceGroup: RG,
};
const VNET_PODS: Partial<ClusterFacts> = {
  networkPlugin: 'azure',
  networkDataplane: 'azure',
  podCidrs: [],
  serviceCidrs: ['10.20.0.0/16'],
  nodeResourceGroup: RG,
};
const BYO: Partial<ClusterFacts> = { networkPlugin: 'none', podCidrs: ['10.244.0.0/16'], serviceCidrs: ['10.20.0.0/16'], nodeResourceGroup: RG };
const bridge: CniService = { binDir: '/opt/cni/bin', confDir: '/etc/cni/net.d', usesNodePodCIDR: true };
const reachable: ApiServerProbe = async (facts) => ({ ok: true, detail: `the API server of ${facts.name} answered TCP and TLS` });
const proxyOf = (config: FlexnodeConfig): ServiceProxyService => ({ plan: (c) => proxyPlan(config, c) });
const NODE = 'edge-1';
const cfg = (over: Partial<FlexnodeConfig> = {}) =>
  testConfig({ node: { name: NODE, labels: { team: 'edge' }, taints: ['flexnode.io/edge=true:NoSchedule'] }, ...over });

/** flexnode's kubeconfig (arc-msi), or the bootstrap kubeconfig kube.node-bootstrap writes (bootstrap-token mode). */
function seedKubeconfig(host: MemoryHost, file = '/var/lib/kubelet/kubeconfig') {
  host.seedFile(
    file,
    `apiVersion: v1\nclusters:\n- name: c\n  cluster:\n    server: https://api.test:443\n    certificate-authority-data: ${Buffer.from(CA_PEM).toString('base64')}\n`,
    0o600,
  );
  return host;
}
const BOOTSTRAP_KUBECONFIG = '/var/lib/kubelet/bootstrap-kubeconfig';
const CLIENT_PAIR = '/var/lib/kubelet/pki/kubelet-client-current.pem';
/** The operator's credential gone (after the join): any use of it fails, and is counted. */
const noOperator = () => {
  const used = { n: 0 };
  const azure: AzureContext = {
    ...fakeAzure,
    credential: {
      getToken: async () => {
        used.n++;
        throw new FlexnodeError('AZURE_NO_CREDENTIAL', 'no Azure credential');
      },
    },
  };
  return { azure, used };
};

const network = (
  host: MemoryHost,
  config: FlexnodeConfig,
  opts: { reader?: ClusterReader; nodes?: MemoryNodes; probe?: ApiServerProbe; cni?: CniService } = {},
) =>
  createNetworkStep({
    readCluster: opts.reader ?? fakeReader(KUBENET),
    nodesApi: (opts.nodes ?? new MemoryNodes()).factory,
    probe: opts.probe ?? reachable,
    routeSource: async () => '198.51.100.7',
  }).create({ host: host.forStep('kube.network'), config, azure: fakeAzure, cni: opts.cni ?? bridge, proxy: proxyOf(config) });

const failure = async (run: () => Promise<unknown>) =>
  run().then(
    () => expect.fail('did not fail'),
    (e: unknown) => e as Error,
  );

describe('kube.network (preflight): API server, service proxy, pod range', () => {
  it("decides and records; the check then needs neither Azure nor the network until the config's network settings change", async () => {
    const host = new MemoryHost();
    const nodes = new MemoryNodes().seed('aks-nodepool1-0', ['10.244.0.0/24']);
    let probes = 0;
    const config = cfg({ cni: { podCIDRPool: { cidr: '10.90.0.0/16' } } });
    const step = network(host, config, { reader: fakeReader(VNET_PODS), nodes, probe: async (f) => (probes++, reachable(f, {})) });
    expect((await step.check()).status).to.equal('missing');
    await step.install();
    const result = await step.check();
    expect(result.status).to.equal('ok');
    expect(result.status === 'ok' && result.detail).to.match(
      /^Services: kube-proxy run by flexnode \(kube-proxy\.service\); pod range: 10\.90\.\d+\.0\/24 \(a \/24 of cni\.podCIDRPool 10\.90\.0\.0\/16\); the API server/,
    );
    // The Nodes were listed with the operator's token (the node has no identity yet).
    expect(nodes.calls).to.deep.equal([{ method: 'LIST', token: 'operator-token' }]);
    const messages = host.logLines.map((l) => l.message);
    expect(messages).to.include(
      "`kubectl logs`, `exec` and `port-forward` need the control plane to reach this node on 198.51.100.7:10250 (the kubelet's port): over VPN, ExpressRoute or VNet peering for a node outside Azure; flexnode cannot test that path from the node",
    );
    const offline = network(host, config, {
      reader: async () => {
        throw new AzureError('no usable Azure credential');
      },
      probe: async () => expect.fail('probed again'),
    });
    expect((await offline.check()).status).to.equal('ok');
    expect(probes).to.equal(1);
    expect((await network(host, cfg({ kubernetes: { serviceProxy: 'none' } })).check()).status).to.equal('missing');
  });

  it('node.maxPods raised after the join past what the recorded range holds: the check refuses (exit 2), offline', async () => {
    const host = new MemoryHost();
    const nodes = new MemoryNodes();
    const pool = { podCIDRPool: { cidr: '10.90.0.0/16', nodeMaskSize: 26 } };
    await network(host, cfg({ cni: pool, node: { name: NODE, maxPods: 50 } }), { reader: fakeReader(VNET_PODS), nodes }).install();
    const offline = { reader: async () => expect.fail('read the cluster') as never, probe: async () => expect.fail('probed') as never };
    expect((await network(host, cfg({ cni: pool, node: { name: NODE, maxPods: 60 } }), offline).check()).status).to.equal('ok');
    const raised = await network(host, cfg({ cni: pool, node: { name: NODE, maxPods: 110 } }), offline)
      .check()
      .then(
        () => expect.fail('accepted'),
        (e: unknown) => e as ConfigError,
      );
    expect(raised).to.be.instanceOf(ConfigError);
    expect(raised.issues[0]!.path).to.equal('node.maxPods');
    expect(raised.message).to.match(/node.maxPods is 110, but this node's share of cni.podCIDRPool, 10\.90\.\d+\.\d+\/26 holds 61/);
  });

  it('an overlapping pod range is refused (exit 2) naming the ranges, before anything is recorded', async () => {
    const host = new MemoryHost();
    const nodes = new MemoryNodes().seed('edge-9', ['10.90.3.0/24']);
    const error = await failure(() => network(host, cfg({ cni: { podCIDR: '10.90.3.0/24' } }), { reader: fakeReader(BYO), nodes }).install());
    expect(error).to.be.instanceOf(ConfigError);
    expect(error.message).to.equal("the pod range 10.90.3.0/24 (cni.podCIDR) overlaps Node edge-9's pod range 10.90.3.0/24");
    expect(host.changesOf('kube.network')).to.deep.equal([]);
    const service = await failure(() => network(new MemoryHost(), cfg({ cni: { podCIDR: '10.20.8.0/24' } }), { reader: fakeReader(BYO) }).install());
    expect(service.message).to.contain("the cluster's service range 10.20.0.0/16 (networkProfile.serviceCidr)");
  });

  it('an unreachable API server stops bootstrap with what was found and what to do; skipPreflight "api-server" goes on', async () => {
    const probe: ApiServerProbe = async () => ({
      ok: false,
      detail:
        "the private cluster c's API server c.privatelink.westus.azmk8s.io:443 (10.1.0.4, a private address): no TCP connection to 10.1.0.4:443 (ETIMEDOUT)",
      fix: 'reach it over VPN',
    });
    const error = await failure(() => network(new MemoryHost(), cfg(), { probe }).install());
    expect(isFlexnodeError(error) && error.code).to.equal('PREFLIGHT_FAILED');
    expect(error).to.not.be.instanceOf(ConfigError);
    expect(error.message).to.contain('10.1.0.4, a private address').and.contain('fix: reach it over VPN');
    const skipped = new MemoryHost();
    await network(skipped, cfg({ pluginConfig: { '@flexnode/plugin-kube': { skipPreflight: ['api-server'] } } }), { probe }).install();
    expect(await network(skipped, cfg({ pluginConfig: { '@flexnode/plugin-kube': { skipPreflight: ['api-server'] } } }), { probe }).check()).to.deep.include({
      status: 'ok',
    });
  });

  it('a service proxy mode the cluster cannot honour is exit 2', async () => {
    const cilium = { ...VNET_PODS, networkDataplane: 'cilium' };
    const error = await failure(() =>
      network(new MemoryHost(), cfg({ kubernetes: { serviceProxy: 'aks' }, cni: { podCIDR: '10.90.1.0/24' } }), { reader: fakeReader(cilium) }).install(),
    );
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).issues[0]!.path).to.equal('kubernetes.serviceProxy');
  });

  it('a chosen range whose neighbours the operator may not read: a preflight failure with the fix; skipped, the check moves to the node identity', async () => {
    const nodes = new MemoryNodes();
    nodes.fail.list = 403;
    const error = await failure(() => network(new MemoryHost(), cfg({ cni: { podCIDR: '10.90.1.0/24' } }), { reader: fakeReader(VNET_PODS), nodes }).install());
    expect(isFlexnodeError(error) && error.code).to.equal('PREFLIGHT_FAILED');
    expect(error.message).to.contain("the other Nodes' pod ranges cannot be read before the join (the operator credential may not list Nodes (HTTP 403");
    expect((error as { hint?: string }).hint)
      .to.contain('managedClusters/nodes/read')
      .and.contain('"skipPreflight": ["node-ranges"]');
    const host = new MemoryHost();
    await network(host, cfg({ cni: { podCIDR: '10.90.1.0/24' }, pluginConfig: { '@flexnode/plugin-kube': { skipPreflight: ['node-ranges'] } } }), {
      reader: fakeReader(VNET_PODS),
      nodes,
    }).install();
    expect(
      host.logLines
        .filter((l) => l.level === 'warn')
        .map((l) => l.message)
        .join('\n'),
    ).to.contain(": kube.node (after the kubelet started) checks them with the node's identity");
    // The cluster allocates: nothing to check beforehand (its node-ipam keeps the ranges apart).
    await network(new MemoryHost(), cfg(), { reader: fakeReader(KUBENET), nodes }).install();
  });

  it("bootstrap-token mode: flexnode's kube-proxy authenticates with the Arc identity, so a cluster without Azure RBAC is refused before anything changes", async () => {
    const noRbac = fakeReader({ ...VNET_PODS, azureRbac: false });
    const config = cfg({ kubernetes: { auth: 'bootstrap-token' }, cni: { podCIDRPool: { cidr: '10.90.0.0/16' } } });
    const host = new MemoryHost();
    const error = await failure(() => network(host, config, { reader: noRbac }).install());
    expect(error).to.be.instanceOf(AzureError);
    expect(error.message)
      .to.contain('does not have Azure RBAC enabled')
      .and.contain('kube-proxy, which flexnode runs with the Arc identity, cannot read Services');
    expect(host.changesOf('kube.network')).to.deep.equal([]);
    // The kubelet's certificate needs no Azure RBAC; nor does a node whose Services AKS's kube-proxy or nobody serves.
    await network(new MemoryHost(), cfg({ kubernetes: { auth: 'bootstrap-token', serviceProxy: 'none' }, cni: { podCIDRPool: { cidr: '10.90.0.0/16' } } }), {
      reader: noRbac,
    }).install();
    await network(new MemoryHost(), cfg({ kubernetes: { auth: 'bootstrap-token' } }), { reader: fakeReader({ ...KUBENET, azureRbac: false }) }).install();
  });

  it('Arc turned off: a cluster where flexnode must run kube-proxy (it authenticates with the Arc identity) is exit 2 before anything changes', async () => {
    const noArc = (kubernetes: Record<string, unknown>, cni: FlexnodeConfig['cni'] = { podCIDRPool: { cidr: '10.90.0.0/16' } }) =>
      cfg({ azure: { ...cfg().azure, arc: { enabled: false } }, kubernetes: { auth: 'bootstrap-token', ...kubernetes }, cni });
    const host = new MemoryHost();
    const error = await failure(() => network(host, noArc({}), { reader: fakeReader(VNET_PODS) }).install());
    expect(error).to.be.instanceOf(ConfigError);
    expect(error.message).to.contain('flexnode runs kube-proxy on this cluster (Azure CNI').and.contain('azure.arc.enabled false');
    expect((error as ConfigError).issues[0]!.path).to.equal('azure.arc.enabled');
    expect(host.changesOf('kube.network')).to.deep.equal([]);
    // Services served otherwise: nothing needs the Arc identity.
    await network(new MemoryHost(), noArc({ serviceProxy: 'none' }), { reader: fakeReader(VNET_PODS) }).install();
    await network(new MemoryHost(), noArc({}, {}), { reader: fakeReader(KUBENET) }).install();
    // Another plugin provides the identity.
    await network(new MemoryHost(), { ...noArc({}), plugins: { 'arc-identity': '@org/plugin-identity' } }, { reader: fakeReader(VNET_PODS) }).install();
  });

  it('a network that takes no addresses from a node range needs no pod range and lists nothing', async () => {
    const host = new MemoryHost();
    const nodes = new MemoryNodes();
    await network(host, cfg(), { reader: fakeReader(VNET_PODS), nodes, cni: { binDir: '/opt/cni/bin', confDir: '/etc/cni/net.d' } }).install();
    expect(nodes.calls).to.deep.equal([]);
    const record = host.changesOf('kube.network').find((c) => c.kind === 'custom' && c.type === NETWORK_RECORD) as unknown as {
      data: { podRange: { source: string } };
    };
    expect(record.data.podRange.source).to.equal('none');
  });
});

const podCidrStep = (
  host: MemoryHost,
  config: FlexnodeConfig,
  nodes: MemoryNodes,
  facts: Partial<ClusterFacts> = KUBENET,
  cni: CniService = bridge,
  azure = fakeAzure,
) =>
  createPodCidrStep({ readCluster: fakeReader(facts), nodesApi: nodes.factory, operatorClient: nodes.client, sleep: async () => undefined, pollMs: 1 }).create({
    host: host.forStep('kube.pod-cidr'),
    config,
    azure,
    identity: fakeIdentity,
    cni,
    proxy: proxyOf(config),
  });
/** flexnode's node role, like system:node, reads, lists, creates and patches Nodes, but may not delete them. */
const asNodeRole = (nodes: MemoryNodes) => (nodes.deny.push({ who: 'node-token', verb: 'delete', status: 403 }), nodes);
const deletes = (nodes: MemoryNodes) => nodes.calls.filter((c) => c.method === 'DELETE').map((c) => `${c.name} as ${c.token}`);

describe('kube.pod-cidr: the Node registered with its pod range before the kubelet', () => {
  it('runs unless cni.podCIDR gives the range', () => {
    const def = createPodCidrStep();
    expect(def.when!(testConfig({ cni: { podCIDR: '10.90.0.0/24' } }))).to.be.a('string');
    expect(def.when!(testConfig())).to.equal(true);
  });

  it('cluster allocation: registers the Node as the kubelet would (labels, taints, node identity), waits for its range, checks it; uninstall deletes that Node', async () => {
    const host = seedKubeconfig(new MemoryHost());
    const nodes = new MemoryNodes(ipam(3)).seed('aks-nodepool1-0', ['10.244.0.0/24']);
    const step = podCidrStep(host, cfg(), nodes);
    expect((await step.check()).status).to.equal('missing');
    await step.install();
    const node = nodes.nodes.get(NODE)!;
    expect(node.metadata.labels).to.deep.include({
      'kubernetes.azure.com/managed': 'false',
      team: 'edge',
      [EXCLUDE_LB_LABEL]: 'true',
      [AKS_CLUSTER_LABEL]: RG,
      'kubernetes.io/hostname': NODE,
      'kubernetes.io/os': 'linux',
    });
    expect(node.spec.taints).to.deep.equal([{ key: 'flexnode.io/edge', value: 'true', effect: 'NoSchedule' }]);
    expect(node.spec.podCIDR).to.equal('10.244.3.0/24');
    expect(nodes.calls.every((c) => c.token === 'node-token')).to.equal(true);
    expect(await step.check()).to.deep.equal({ status: 'ok', detail: '10.244.3.0/24 (allocated by the cluster)' });
    // The pod-cidr service reads the same range for the bridge.
    expect(await podCidrs(host.forStep('service.pod-cidr'), cfg(), fakeIdentity, undefined, nodes.factory).podCIDRs()).to.deep.equal(['10.244.3.0/24']);
    // A run while the API server is away: recorded, said so.
    nodes.unreachable = true;
    expect(await step.check()).to.deep.include({ status: 'ok', detail: '10.244.3.0/24 (recorded; the API server does not answer, not checked)' });
    nodes.unreachable = false;
    await step.uninstall();
    expect(nodes.nodes.has(NODE)).to.equal(false);
    expect(host.changesOf('kube.pod-cidr')).to.deep.equal([]);
  });

  it('a cluster that gives no range in time: an error naming the fields to set', async () => {
    const host = seedKubeconfig(new MemoryHost());
    const config = cfg({ pluginConfig: { '@flexnode/plugin-kube': { podCIDRTimeoutSeconds: 0 } } });
    const error = await failure(() => podCidrStep(host, config, new MemoryNodes(), BYO).install());
    expect(error).to.be.instanceOf(StepError);
    expect(error.message).to.contain(`nothing in the cluster gave Node ${NODE} a pod range (spec.podCIDR) within 0 s`);
    expect((error as StepError).hint).to.contain('set cni.podCIDR or cni.podCIDRPool');
  });

  it('a share of cni.podCIDRPool as spec.podCIDR; a Node that took the same share first keeps it and this one takes another', async () => {
    const config = cfg({ cni: { podCIDRPool: { cidr: '10.90.0.0/16' } } });
    const first = new MemoryNodes();
    await podCidrStep(seedKubeconfig(new MemoryHost()), config, first, VNET_PODS).install();
    const share = first.nodes.get(NODE)!.spec.podCIDR as string;
    expect(share).to.match(/^10\.90\.\d+\.0\/24$/);
    // A rival that listed the Nodes at the same moment registered the same share a little earlier.
    const racing = asNodeRole(new MemoryNodes());
    const factory = racing.factory;
    let listed = 0;
    racing.factory = (o) => {
      const api = factory(o);
      return {
        ...api,
        list: async () => {
          if (++listed === 2) {
            racing.seed('edge-rival', [share]);
            racing.nodes.get('edge-rival')!.metadata.creationTimestamp = '2000-01-01T00:00:00Z';
          }
          return api.list();
        },
      };
    };
    const host = seedKubeconfig(new MemoryHost());
    const step = podCidrStep(host, config, racing, VNET_PODS);
    await step.install();
    expect(racing.nodes.get('edge-rival')!.spec.podCIDR).to.equal(share);
    const mine = racing.nodes.get(NODE)!.spec.podCIDR as string;
    expect(mine, 'the younger Node takes another share')
      .to.match(/^10\.90\.\d+\.0\/24$/)
      .and.not.equal(share);
    // The node's role may not delete its Node: the operator does (with the uid as a precondition).
    expect(deletes(racing)).to.deep.equal([`${NODE} as node-token`, `${NODE} as operator-token`]);
    expect(await step.check()).to.deep.include({ status: 'ok' });
    expect(host.logLines.map((l) => l.message).join('\n')).to.contain(`Node edge-rival took the pod range ${share} at the same moment: taking another share`);
  });

  it('a Node registered already keeps its range (nothing created, uninstall leaves it); a network without node ranges registers nothing', async () => {
    const host = seedKubeconfig(new MemoryHost());
    const nodes = new MemoryNodes().seed(NODE, ['10.244.9.0/24']);
    const step = podCidrStep(host, cfg(), nodes);
    await step.install();
    expect(nodes.calls.filter((c) => c.method === 'POST')).to.deep.equal([]);
    expect(await step.check()).to.deep.include({ status: 'ok' });
    await step.uninstall();
    expect(nodes.nodes.has(NODE)).to.equal(true);
    const none = new MemoryNodes();
    const cilium = podCidrStep(seedKubeconfig(new MemoryHost()), cfg(), none, VNET_PODS, { binDir: '/opt/cni/bin', confDir: '/etc/cni/net.d' });
    expect((await cilium.check()).status).to.equal('ok');
    expect(none.calls).to.deep.equal([]);
  });

  it('the node identity may not delete Nodes: uninstall deletes the Node it registered as the operator; a Node gone already needs nobody', async () => {
    const host = seedKubeconfig(new MemoryHost());
    const nodes = asNodeRole(new MemoryNodes(ipam(3)));
    await podCidrStep(host, cfg(), nodes).install();
    await podCidrStep(host, cfg(), nodes).uninstall();
    expect(nodes.nodes.has(NODE)).to.equal(false);
    expect(deletes(nodes)).to.deep.equal([`${NODE} as node-token`, `${NODE} as operator-token`]);
    expect(host.logLines.map((l) => l.message)).to.include(`deleted Node ${NODE} from the cluster (as the operator)`);
    // The kubelet step deleted it first (the usual unbootstrap): the node sees it gone, the operator is not asked.
    const gone = seedKubeconfig(new MemoryHost());
    const again = asNodeRole(new MemoryNodes(ipam(3)));
    await podCidrStep(gone, cfg(), again).install();
    again.nodes.delete(NODE);
    const { azure, used } = noOperator();
    await podCidrStep(gone, cfg(), again, KUBENET, bridge, azure).uninstall();
    expect(used.n).to.equal(0);
    expect(gone.changesOf('kube.pod-cidr')).to.deep.equal([]);
  });

  it('without the operator, a Node the node may not delete fails the uninstall naming the credential; the record stays for the next one', async () => {
    const host = seedKubeconfig(new MemoryHost());
    const nodes = asNodeRole(new MemoryNodes(ipam(3)));
    await podCidrStep(host, cfg(), nodes).install();
    const { azure } = noOperator();
    const error = await failure(() => podCidrStep(host, cfg(), nodes, KUBENET, bridge, azure).uninstall());
    expect((error as FlexnodeError).code).to.equal('AZURE_OPERATOR_CREDENTIAL_REQUIRED');
    expect(error.message).to.contain(`unbootstrap of kube.pod-cidr (deleting the Node ${NODE} from the cluster) needs the operator's Azure credential`);
    expect(nodes.nodes.has(NODE)).to.equal(true);
    await podCidrStep(host, cfg(), nodes).uninstall();
    expect(nodes.nodes.has(NODE)).to.equal(false);
  });
});

const nodeStep = (host: MemoryHost, config: FlexnodeConfig, nodes: MemoryNodes, facts: Partial<ClusterFacts> = KUBENET) =>
  createNodeStep({ readCluster: fakeReader(facts), nodesApi: nodes.factory, operatorClient: nodes.client }).create({
    host: host.forStep('kube.node'),
    config,
    azure: fakeAzure,
    identity: fakeIdentity,
    proxy: proxyOf(config),
  });

describe('kube.node: the labels flexnode sets, the configured pod range on the Node', () => {
  it("patches missing labels, removes one it set that the mode no longer wants, leaves others' labels alone", async () => {
    const host = seedKubeconfig(new MemoryHost());
    const nodes = new MemoryNodes().seed(NODE, ['10.244.2.0/24'], { 'kubernetes.azure.com/managed': 'false', 'someone.else/label': 'x' });
    const step = nodeStep(host, cfg(), nodes);
    expect((await step.check()).status).to.equal('missing');
    await step.install();
    expect(nodes.nodes.get(NODE)!.metadata.labels).to.deep.include({
      [AKS_CLUSTER_LABEL]: RG,
      [EXCLUDE_LB_LABEL]: 'true',
      team: 'edge',
      'someone.else/label': 'x',
    });
    expect((await step.check()).status).to.equal('ok');
    // The mode moves to flexnode's own kube-proxy: AKS's cluster label must go (it would bring AKS's DaemonSets).
    const moved = nodeStep(host, cfg({ kubernetes: { serviceProxy: 'flexnode' } }), nodes);
    expect(await moved.check()).to.deep.equal({ status: 'drifted', reason: `Node ${NODE}: label ${AKS_CLUSTER_LABEL} is no longer wanted` });
    await moved.install();
    expect(nodes.nodes.get(NODE)!.metadata.labels).to.not.have.property(AKS_CLUSTER_LABEL);
    expect(nodes.nodes.get(NODE)!.metadata.labels).to.include({ 'someone.else/label': 'x' });
    await moved.uninstall();
    expect(host.changesOf('kube.node').filter((c) => c.kind === 'custom' && c.type === NODE_LABELS_RECORD)).to.deep.equal([]);
  });

  it("node.taints changed after registration: added, updated and removed on the Node; others' taints kept", async () => {
    const host = seedKubeconfig(new MemoryHost());
    const nodes = new MemoryNodes().seed(NODE, ['10.244.2.0/24']);
    const controller = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };
    nodes.nodes.get(NODE)!.spec.taints = [{ key: 'flexnode.io/edge', value: 'true', effect: 'NoSchedule' }, controller];
    await nodeStep(host, cfg({ node: { name: NODE, taints: ['flexnode.io/edge=true:NoSchedule'] } }), nodes).install();
    const changed = nodeStep(host, cfg({ node: { name: NODE, taints: ['dedicated=gpu:NoExecute'] } }), nodes);
    expect(await changed.check()).to.deep.equal({
      status: 'drifted',
      reason: `Node ${NODE}: taint flexnode.io/edge:NoSchedule is no longer wanted; taint dedicated:NoExecute is missing`,
    });
    await changed.install();
    expect(nodes.nodes.get(NODE)!.spec.taints).to.deep.equal([controller, { key: 'dedicated', value: 'gpu', effect: 'NoExecute' }]);
    expect((await changed.check()).status).to.equal('ok');
    const revalued = nodeStep(host, cfg({ node: { name: NODE, taints: ['dedicated=ml:NoExecute'] } }), nodes);
    expect((await revalued.check()) as { reason: string }).to.deep.include({ reason: `Node ${NODE}: taint dedicated:NoExecute has the value "gpu", not "ml"` });
    await revalued.install();
    expect(nodes.nodes.get(NODE)!.spec.taints).to.deep.equal([controller, { key: 'dedicated', value: 'ml', effect: 'NoExecute' }]);
    // A taint someone else put on the Node with a key flexnode never set stays, and is no drift.
    nodes.nodes.get(NODE)!.spec.taints = [...(nodes.nodes.get(NODE)!.spec.taints as object[]), { key: 'maintenance', effect: 'NoSchedule' }];
    expect((await revalued.check()).status).to.equal('ok');
  });

  it("a taint the node lifecycle controller adds between kube.node's read and its patch is kept (resourceVersion, 409, redo)", async () => {
    const host = seedKubeconfig(new MemoryHost());
    const nodes = new MemoryNodes().seed(NODE, ['10.244.2.0/24']);
    const controller = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-12-03T12:00:00Z' };
    const read = nodes.factory;
    let raced = 0;
    nodes.factory = (o) => {
      const api = read(o);
      return {
        ...api,
        patch: async (name, patch) => {
          if (raced++ === 0) {
            // The controller's own update lands first: a new taint, a new resourceVersion.
            const n = nodes.nodes.get(name)!;
            n.spec.taints = [...((n.spec.taints as object[] | undefined) ?? []), controller];
            n.metadata.resourceVersion = '999';
          }
          return api.patch(name, patch);
        },
      };
    };
    await nodeStep(host, cfg(), nodes).install();
    expect(raced, 'patched twice: the first one refused as stale').to.equal(2);
    expect(nodes.nodes.get(NODE)!.spec.taints).to.deep.equal([controller, { key: 'flexnode.io/edge', value: 'true', effect: 'NoSchedule' }]);
  });

  it('a denied patch is waited out on the first join only: once the node has joined, a denial is a role taken away', async () => {
    const host = seedKubeconfig(new MemoryHost());
    const nodes = new MemoryNodes().seed(NODE, ['10.244.2.0/24']);
    await nodeStep(host, cfg(), nodes).install();
    nodes.deny.push({ who: 'node-token', verb: 'patch', status: 403 });
    const relabelled = nodeStep(host, cfg({ node: { name: NODE, labels: { team: 'core' } } }), nodes);
    const started = Date.now();
    const error = await relabelled.install().then(
      () => expect.fail('the denial was not reported'),
      (e: Error) => e,
    );
    expect(error.message).to.match(/patching Node edge-1 answered HTTP 403: nodes is forbidden: User .* cannot patch resource "nodes"/);
    expect(Date.now() - started, 'failed at once').to.be.below(2000);
    expect(nodes.calls.filter((c) => c.method === 'PATCH')).to.have.length(2);
  });

  it('with cni.podCIDR: the Node gets that range once; a range the cluster gave first is an error naming both', async () => {
    const host = seedKubeconfig(new MemoryHost());
    const nodes = new MemoryNodes().seed(NODE);
    await nodeStep(host, cfg({ cni: { podCIDR: '10.90.1.0/24' } }), nodes, BYO).install();
    expect(nodes.nodes.get(NODE)!.spec).to.include({ podCIDR: '10.90.1.0/24' });
    const taken = new MemoryNodes().seed(NODE, ['10.244.5.0/24']);
    const error = await failure(() => nodeStep(seedKubeconfig(new MemoryHost()), cfg({ cni: { podCIDR: '10.90.1.0/24' } }), taken, BYO).install());
    expect(error.message).to.equal(
      `step kube.node: Node ${NODE} has the pod range 10.244.5.0/24 from the cluster, but cni.podCIDR (the bridge's range) is 10.90.1.0/24`,
    );
  });

  it('cni.podCIDR goes on the Node only if no other Node holds it', async () => {
    const nodes = new MemoryNodes().seed(NODE).seed('edge-2', ['10.90.1.0/24']);
    const error = await failure(() => nodeStep(seedKubeconfig(new MemoryHost()), cfg({ cni: { podCIDR: '10.90.1.0/24' } }), nodes, BYO).install());
    expect(error.message).to.equal("the pod range 10.90.1.0/24 (cni.podCIDR) overlaps Node edge-2's pod range 10.90.1.0/24");
    expect(nodes.nodes.get(NODE)!.spec).to.not.have.property('podCIDR');
  });

  it("a label by hand that would bring AKS's DaemonSets while flexnode runs kube-proxy is refused", async () => {
    const error = await failure(() =>
      nodeStep(
        seedKubeconfig(new MemoryHost()),
        cfg({ node: { name: NODE, labels: { [AKS_CLUSTER_LABEL]: RG } } }),
        new MemoryNodes().seed(NODE),
        VNET_PODS,
      ).install(),
    );
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).issues[0]!.path).to.equal(`node.labels["${AKS_CLUSTER_LABEL}"]`);
  });
});

describe('bootstrap-token mode: the Node calls before and after the kubelet has its certificate', () => {
  let pki: TestPki;
  before(() => {
    pki = testPki();
  });
  after(() => pki.dispose());
  const config = () => cfg({ kubernetes: { auth: 'bootstrap-token' } });

  it("the operator registers the Node (the node has no credential before the kubelet); checks read it with the kubelet's certificate", async () => {
    const host = seedKubeconfig(new MemoryHost(), BOOTSTRAP_KUBECONFIG);
    const nodes = new MemoryNodes(ipam(3)).seed('aks-nodepool1-0', ['10.244.0.0/24']);
    const step = podCidrStep(host, config(), nodes);
    await step.install();
    expect(nodes.nodes.get(NODE)!.spec.podCIDR).to.equal('10.244.3.0/24');
    expect([...new Set(nodes.calls.map((c) => c.token))]).to.deep.equal(['operator-token']);
    // Before TLS bootstrapping there is no node credential: recorded, not checked; the network reads the range as the operator.
    expect(await step.check()).to.deep.include({
      status: 'ok',
      detail: '10.244.3.0/24 (recorded; not checked: the kubelet has no client certificate in /var/lib/kubelet/pki yet (TLS bootstrapping))',
    });
    expect(await podCidrs(host.forStep('service.pod-cidr'), config(), fakeIdentity, fakeAzure, nodes.factory).podCIDRs()).to.deep.equal(['10.244.3.0/24']);
    expect(nodes.calls.at(-1)).to.deep.equal({ method: 'GET', name: NODE, token: 'operator-token' });
    // The kubelet got its certificate: the node reads its own Node, and the operator's credential is not needed.
    host.seedFile(CLIENT_PAIR, pki.pair(`/O=system:nodes/CN=system:node:${NODE}`), 0o600);
    const { azure, used } = noOperator();
    expect(await step.check()).to.deep.equal({ status: 'ok', detail: '10.244.3.0/24 (allocated by the cluster)' });
    expect(await podCidrs(host.forStep('service.pod-cidr'), config(), fakeIdentity, azure, nodes.factory).podCIDRs()).to.deep.equal(['10.244.3.0/24']);
    expect(nodes.calls.slice(-2).map((c) => c.token)).to.deep.equal([`cert system:node:${NODE}`, `cert system:node:${NODE}`]);
    expect(used.n).to.equal(0);
    // Uninstall: a node certificate may never delete a Node (the Node authorizer): the operator does.
    await step.uninstall();
    expect(nodes.nodes.has(NODE)).to.equal(false);
    expect(deletes(nodes)).to.deep.equal([`${NODE} as operator-token`]);
  });

  it('kube.node: node.taints changed are patched by the operator (NodeRestriction: a node may not change its taints)', async () => {
    const host = seedKubeconfig(new MemoryHost(), BOOTSTRAP_KUBECONFIG);
    host.seedFile(CLIENT_PAIR, pki.pair(`/O=system:nodes/CN=system:node:${NODE}`), 0o600);
    const nodes = new MemoryNodes().seed(NODE, ['10.244.2.0/24']);
    await nodeStep(host, cfg({ kubernetes: { auth: 'bootstrap-token' }, node: { name: NODE, taints: ['dedicated=gpu:NoSchedule'] } }), nodes).install();
    expect(nodes.nodes.get(NODE)!.spec.taints).to.deep.equal([{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
    expect(nodes.calls.filter((c) => c.method === 'PATCH').map((c) => c.token)).to.include('operator-token');
  });

  it("kube.node: the node patches its own Node with its certificate; the operator lists the others' ranges for cni.podCIDR", async () => {
    const host = seedKubeconfig(new MemoryHost(), BOOTSTRAP_KUBECONFIG);
    host.seedFile(CLIENT_PAIR, pki.pair(`/O=system:nodes/CN=system:node:${NODE}`), 0o600);
    const nodes = new MemoryNodes().seed(NODE).seed('edge-2', ['10.90.2.0/24']);
    await nodeStep(host, cfg({ kubernetes: { auth: 'bootstrap-token' }, cni: { podCIDR: '10.90.1.0/24' } }), nodes, BYO).install();
    expect(nodes.nodes.get(NODE)!.spec).to.include({ podCIDR: '10.90.1.0/24' });
    expect(nodes.calls.map((c) => `${c.method} ${c.token}`)).to.deep.equal([
      `GET cert system:node:${NODE}`,
      'LIST operator-token',
      `PATCH cert system:node:${NODE}`,
      'PATCH operator-token', // node.taints: the Node was seeded without them
    ]);
  });
});

describe('the pod-cidr service', () => {
  it("cni.podCIDR without any cluster; else the Node's range; pending and unreadable told apart", async () => {
    const host = new MemoryHost();
    expect(await podCidrs(host.forStep('service.pod-cidr'), testConfig({ cni: { podCIDR: '10.88.0.0/24' } }), fakeIdentity).podCIDRs()).to.deep.equal([
      '10.88.0.0/24',
    ]);
    const code = async (nodes: MemoryNodes, h = seedKubeconfig(new MemoryHost())) =>
      podCidrs(h.forStep('service.pod-cidr'), cfg(), fakeIdentity, undefined, nodes.factory)
        .podCIDRs()
        .then(
          () => 'ok',
          (e: { code: string }) => e.code,
        );
    expect(await code(new MemoryNodes(), new MemoryHost())).to.equal('POD_CIDR_PENDING');
    expect(await code(new MemoryNodes())).to.equal('POD_CIDR_PENDING');
    expect(await code(new MemoryNodes().seed(NODE))).to.equal('POD_CIDR_PENDING');
    const away = new MemoryNodes().seed(NODE, ['10.244.1.0/24']);
    away.unreachable = true;
    expect(await code(away)).to.equal('POD_CIDR_UNREADABLE');
  });
});
