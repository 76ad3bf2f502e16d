// Node in a box, the cluster's network: an Azure CNI cluster (pods in the VNet: no pod range for a flex node, and
// AKS's kube-proxy label would bring Azure CNI's DaemonSets), so flexnode runs kube-proxy itself and an edge node
// takes its pod range from a pool. First an overlapping range: refused with exit 2 before anything changed (the tree
// as it was but for flexnode's own state and log, nothing downloaded, nothing in Azure or the cluster). Then the pool:
// the Node registered with its share, the bridge on it, the kube-proxy STAND-IN under systemd from kube-proxy.service
// with its own 0600 kubeconfig, watching Services as the node's Arc identity under flexnode's default role (whose
// kube-proxy rules come with the `auto` mode); unbootstrap deletes the Node as the operator (the node role may not) and
// leaves the tree pristine.
import { expect } from 'chai';
import { skipUnlessMachineSupported } from '../machine/probe.js';
import { diffSnapshots, isEmptyDiff } from '../machine/snapshot.js';
import { CONFIG_PATH, explain, flexnode } from './cli-in-machine.js';
import { CLIENT_SECRET, CLUSTER_ID, NOISE, startJoinRig, type JoinRig } from './join-rig.js';
import { SUBSCRIPTION } from './node-config.js';

const KUBE_VERSION = '1.35.6';
const NODE = 'edge-box';
const OTHER = 'edge-other';
const EXCLUDE_LB = 'node.kubernetes.io/exclude-from-external-load-balancers';

describe("node in a box: flexnode's kube-proxy on an Azure CNI cluster, a pod range from a pool, an overlap refused first", function () {
  this.timeout(600_000);
  let rig: JoinRig | undefined;

  before(async function () {
    this.timeout(900_000);
    await skipUnlessMachineSupported(this);
    rig = await startJoinRig({
      name: 'netproxy',
      kubernetesVersion: KUBE_VERSION,
      networkProfile: { networkPlugin: 'azure', serviceCidr: '10.96.0.0/16', dnsServiceIP: '10.96.0.10' },
      kube: { serviceCidr: '10.96.0.0/16' },
      node: { name: NODE },
    });
    // Another edge node that took 10.90.7.0/24 already. The operator's service principal holds no more in the cluster
    // than an arc-msi join needs of it (a custom role): nodes/read, so the preflight lists the Nodes before the join
    // (RBAC Reader has no cluster-scoped reads), and nodes/delete, for unbootstrap (the node's role may not delete).
    rig.kube.cluster.systemCreate('nodes', {
      metadata: { name: OTHER, labels: { 'kubernetes.azure.com/managed': 'false' } },
      spec: { podCIDR: '10.90.7.0/24', podCIDRs: ['10.90.7.0/24'] },
    });
    const nodes = rig.arm.addRoleDefinition({
      roleName: 'Nodes: read and delete',
      assignableScopes: [`/subscriptions/${SUBSCRIPTION}`],
      permissions: [{ dataActions: ['Microsoft.ContainerService/managedClusters/nodes/read', 'Microsoft.ContainerService/managedClusters/nodes/delete'] }],
    });
    rig.arm.grant(rig.entra.clients[0]!.objectId, nodes.id, CLUSTER_ID);
  });

  after(async () => {
    await rig?.stop();
  });

  it('an overlapping pod range is refused with exit 2 before any change, naming both ranges', async () => {
    const { machine: m, kube, arm, mirror, env } = rig!;
    await rig!.write(rig!.config({ cni: { ...rig!.config().cni, podCIDR: '10.90.7.0/24' } }));
    const pristine = await m.snapshot(NOISE);
    mirror.resetRequests();
    const run = await flexnode(m, ['bootstrap', '--config', CONFIG_PATH, '--json'], env);
    expect(run.exitCode, await explain(m, run)).to.equal(2);
    const report = JSON.parse(run.stdout) as { results: { id: string; outcome: string; error?: { code: string; message: string } }[] };
    const failed = report.results.filter((r) => r.outcome === 'failed');
    expect(failed.map((r) => [r.id, r.error?.code])).to.deep.equal([['kube.network', 'CONFIG_INVALID']]);
    expect(failed[0]!.error!.message).to.contain(`the pod range 10.90.7.0/24 (cni.podCIDR) overlaps Node ${OTHER}'s pod range 10.90.7.0/24`);
    // Only preflight steps ran, and they record in flexnode's journal only (kube.version the versions it checked).
    expect(report.results.filter((r) => !['failed', 'skipped', 'unchanged'].includes(r.outcome)).map((r) => r.id)).to.deep.equal(['kube.version']);
    // Nothing changed: no download, no Arc machine, no Node, the tree as it was but flexnode's own state.
    expect(mirror.log.filter((r) => r.path !== '')).to.deep.equal([]); // the preflight's probe of the mirror's root only
    expect(arm.machine(NODE)).to.equal(undefined);
    expect(kube.nodes().map((n: { metadata: { name: string } }) => n.metadata.name)).to.deep.equal([OTHER]);
    const diff = diffSnapshots(pristine, await m.snapshot(NOISE));
    const notFlexnode = (paths: string[]) => paths.filter((p) => p !== '/var/lib/flexnode' && !p.startsWith('/var/lib/flexnode/'));
    expect({ added: notFlexnode(diff.added), changed: notFlexnode(diff.changed.map((c) => c.path)), removed: notFlexnode(diff.removed) }).to.deep.equal({
      added: [],
      changed: [],
      removed: [],
    });
    expect(run.stdout + run.stderr).to.not.contain(CLIENT_SECRET);
  });

  it("joins with a share of the pool and flexnode's kube-proxy under systemd; unbootstrap restores every file", async () => {
    const { machine: m, kube, arm, env } = rig!;
    await rig!.write(rig!.config({ cni: { ...rig!.config().cni, podCIDRPool: { cidr: '10.90.0.0/16' } } }));
    await m.exec(['rm', '-rf', '/var/lib/flexnode']); // the refused run's state
    const pristine = await m.snapshot(NOISE);
    const first = await flexnode(m, ['bootstrap', '--config', CONFIG_PATH, '--json'], env);
    expect(first.exitCode, await explain(m, first, 'kube-proxy.service')).to.equal(0);
    for (const unit of ['containerd.service', 'kubelet.service', 'kube-proxy.service']) {
      expect((await m.exec(['systemctl', 'is-active', unit], { allowFailure: true })).stdout.trim(), unit).to.equal('active');
    }
    // The Node: a /24 of the pool that no other Node holds, the bridge on it, no label for AKS's DaemonSets.
    const node = kube.node(NODE)!;
    const range = node.spec?.podCIDR as string;
    expect(range)
      .to.match(/^10\.90\.\d+\.0\/24$/)
      .and.not.equal('10.90.7.0/24');
    expect(node.metadata.labels).to.include({ [EXCLUDE_LB]: 'true', 'kubernetes.azure.com/managed': 'false' });
    expect(node.metadata.labels).to.not.have.property('kubernetes.azure.com/cluster');
    const conflist = JSON.parse(await m.readFile('/etc/cni/net.d/99-bridge.conflist'));
    expect(conflist.plugins[0].ipam.ranges).to.deep.equal([[{ subnet: range }]]);
    // kube-proxy: the stand-in of the same release, from the mirror (verified against its published .sha256), with
    // its own 0600 kubeconfig; it watches Services and EndpointSlices as the node's Arc identity (guard authorizes
    // each call against the roles flexnode assigned; a 403 would have ended it).
    expect((await m.execOrThrow(['stat', '-c', '%a', '/var/lib/kube-proxy/kubeconfig'])).stdout.trim()).to.equal('600');
    expect((await m.execOrThrow(['/usr/local/bin/kube-proxy', '--version'])).stdout.trim()).to.equal(`Kubernetes v${KUBE_VERSION}`);
    const principal = arm.machine(NODE)!.principalId;
    const watched = () =>
      new Set(kube.audit.filter((e) => e.user === principal && e.userAgent.startsWith('kube-proxy/') && e.code < 300).map((e) => `${e.verb} ${e.resource}`));
    const deadline = Date.now() + 60_000;
    while (!['watch services', 'watch endpointslices', 'watch servicecidrs', 'create events'].every((w) => watched().has(w)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 500));
    expect([...watched()], await m.journal('kube-proxy.service')).to.include.members([
      'watch services',
      'watch endpointslices',
      'watch servicecidrs',
      'create events',
    ]);
    expect(kube.denials().filter((e) => e.userAgent.startsWith('kube-proxy/'))).to.deep.equal([]);

    const again = await flexnode(m, ['bootstrap', '--config', CONFIG_PATH, '--json'], env);
    expect(again.exitCode, await explain(m, again)).to.equal(0);
    const rerun = JSON.parse(again.stdout) as { results: { id: string; outcome: string }[] };
    expect(rerun.results.filter((r) => r.outcome !== 'unchanged').map((r) => r.id)).to.deep.equal([]);

    const undo = await flexnode(m, ['unbootstrap', '--config', CONFIG_PATH, '--json'], env);
    expect(undo.exitCode, await explain(m, undo, 'kube-proxy.service')).to.equal(0);
    expect((await m.exec(['systemctl', 'is-active', 'kube-proxy.service'], { allowFailure: true })).stdout.trim()).to.not.equal('active');
    expect(kube.nodes().map((n: { metadata: { name: string } }) => n.metadata.name)).to.deep.equal([OTHER]);
    const deletes = kube.audit
      .filter((e) => e.verb === 'delete' && e.resource === 'nodes')
      .map((e) => `${e.code} ${e.user === principal ? 'node' : e.user === rig!.entra.clients[0]!.objectId ? 'operator' : e.user}`);
    expect(deletes).to.deep.equal(['403 node', '200 operator']);
    const after = await m.snapshot(NOISE);
    const diff = diffSnapshots(pristine, after);
    expect(isEmptyDiff(diff), JSON.stringify(diff, null, 2)).to.equal(true);
    for (const out of [first, again, undo]) expect(out.stdout + out.stderr).to.not.contain(CLIENT_SECRET);
  });
});
