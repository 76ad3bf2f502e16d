// Node in a box, the full cycle: a booted Debian machine with real systemd, where the real CLI bootstraps the
// whole node (preflight, OS prerequisites, runc/containerd and the CNI plugins for real from the host-side
// mirror, Arc registration and role assignments against the FAKE ARM and FAKE Entra, the kubelet STAND-IN under
// systemd authenticating with tokens from the FAKE Arc HIMDS to the FAKE Kubernetes API), re-runs converged,
// and unbootstraps to the pristine tree. Only Azure, the API server, azcmagent and the kubelet are fakes or
// stand-ins: nothing else here can be had on these machines.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipUnlessMachineSupported } from '../machine/probe.js';
import { diffSnapshots, isEmptyDiff, withoutKubeletLeftovers } from '../machine/snapshot.js';
import { buildEchoImage } from '../mirror/oci-image.js';
import { repoRoot } from '../mirror/paths.js';
import { CONFIG_PATH, explain, flexnode, writeConfig } from './cli-in-machine.js';
import { CLIENT_SECRET, CLUSTER_ID, NOISE, startJoinRig, type JoinRig } from './join-rig.js';

const KUBE_VERSION = '1.30.4';
const NODE = 'box-node';
const ARC_STEPS = ['arc.preflight', 'arc.agent', 'arc.connect', 'arc.roles'];

describe('node in a box: the full cycle (bootstrap, converge, unbootstrap) with Arc and the kubelet', function () {
  this.timeout(600_000);
  let rig: JoinRig | undefined;

  before(async function () {
    this.timeout(900_000);
    await skipUnlessMachineSupported(this);
    // A kubenet cluster: kube-controller-manager gives every Node a /24 of its pod range, and AKS's kube-proxy
    // DaemonSet schedules on nodes labelled kubernetes.azure.com/cluster (upstream's kubenet flow).
    rig = await startJoinRig({
      name: 'full',
      kubernetesVersion: KUBE_VERSION,
      networkProfile: { networkPlugin: 'kubenet', podCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/16', dnsServiceIP: '10.96.0.10' },
      kube: { podCidr: { clusterCidr: '10.244.0.0/16' }, serviceCidr: '10.96.0.0/16' },
      node: { name: NODE, labels: { 'flexnode.io/pool': 'edge' } },
    });
    await rig.write(rig.config());
  });

  after(async () => {
    await rig?.stop();
  });

  it('joins the node, converges on a re-run, and unbootstrap restores every file', async () => {
    const { machine: m, kube, arm, entra, env, work } = rig!;
    const pristine = await m.snapshot(NOISE);

    const first = await flexnode(m, ['bootstrap', '--config', CONFIG_PATH, '--json'], env);
    expect(first.exitCode, await explain(m, first, 'kubelet.service')).to.equal(0);
    for (const unit of ['containerd.service', 'kubelet.service']) {
      expect((await m.exec(['systemctl', 'is-active', unit], { allowFailure: true })).stdout.trim(), unit).to.equal('active');
    }

    // The kubelet stand-in registers the Node with a HIMDS token through `flexnode token`; it becomes Ready. Guard
    // authorizes every call against the roles flexnode assigned (a 401/403 would have stopped the stand-in).
    const deadline = Date.now() + 60_000;
    while (kube.readyCondition(NODE)?.status !== 'True' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    expect(kube.readyCondition(NODE)?.status, await m.journal('kubelet.service')).to.equal('True');
    const principal = arm.machine(NODE)?.principalId;
    expect(kube.audit.filter((e) => e.resource === 'leases' && e.code < 300).map((e) => e.user), 'the Lease is renewed as the Arc identity').to.include(principal);
    expect(kube.denials().filter((e) => e.userAgent.startsWith('kubelet/')).map((e) => `${e.code} ${e.verb} ${e.path}: ${e.message}`),
      'no call of the kubelet was refused').to.deep.equal([]);
    expect(arm.machine(NODE), 'Arc machine resource').to.not.equal(undefined);
    expect(arm.roleAssignments().length, 'role assignments for the node identity').to.be.at.least(1);

    // kubenet: the Node was registered with the kubelet's labels before the kubelet started, the cluster gave it a
    // /24, and it carries the label AKS's kube-proxy DaemonSet schedules on; flexnode runs no kube-proxy of its own.
    const node = kube.node(NODE)!;
    expect(node.spec?.podCIDR).to.equal('10.244.0.0/24');
    const nodeResourceGroup = arm.cluster(CLUSTER_ID)!.nodeResourceGroup;
    expect(node.metadata.labels).to.include({ 'kubernetes.azure.com/cluster': nodeResourceGroup, 'node.kubernetes.io/exclude-from-external-load-balancers': 'true',
      'kubernetes.azure.com/managed': 'false', 'flexnode.io/pool': 'edge' });
    expect((await m.exec(['systemctl', 'cat', 'kube-proxy.service'], { allowFailure: true })).exitCode).to.not.equal(0);
    expect((await m.exec(['test', '-e', '/usr/local/bin/kube-proxy'], { allowFailure: true })).exitCode).to.not.equal(0);

    // Real containerd and runc run a locally imported image; the CNI config gives a pod an address.
    const image = await buildEchoImage(join(work, 'echo.tar'));
    await m.writeFile('/root/echo.tar', readFileSync(join(work, 'echo.tar')));
    await m.execOrThrow(['ctr', '-n', 'default', 'image', 'import', '/root/echo.tar'], { unit: 'containerd.service' });
    expect((await m.execOrThrow(['ctr', '-n', 'default', 'run', '--rm', image, 'e2e-echo'])).stdout).to.contain('hello from a container');
    await m.execOrThrow(['ctr', '-n', 'default', 'image', 'rm', image]);
    await m.exec(['rm', '-f', '/root/echo.tar']);
    const runner = `${repoRoot()}/packages/plugin-cni/dist/cni-chain.test.runner.js`;
    const pod = JSON.parse((await m.execOrThrow(['unshare', '--net', '--mount', '--fork', 'node', runner, '/etc/cni/net.d/99-bridge.conflist', '/opt/cni/bin'])).stdout);
    expect(pod.added?.eth0?.[0]?.local, JSON.stringify(pod)).to.match(/^10\.244\.0\.\d+$/); // the Node's range

    // Converged: nothing changes, and the steps' own work is well under a second.
    const again = await flexnode(m, ['bootstrap', '--config', CONFIG_PATH, '--json'], env);
    expect(again.exitCode, await explain(m, again)).to.equal(0);
    const rerun = JSON.parse(again.stdout) as { elapsedMs: number; results: { id: string; outcome: string; durationMs: number }[] };
    console.log(`      converged re-run: step work ${rerun.elapsedMs} ms (${rerun.results.map((r) => `${r.id} ${r.durationMs} ms`).join(', ')})`);
    expect(rerun.results.filter((r) => r.outcome !== 'unchanged').map((r) => r.id)).to.deep.equal([]);

    // The operator's credential is for changes only: a careful operator removes it after the join. Status and the
    // agent's cycles then work from the journal and the node's own Arc identity, with no operator token issued.
    const config = JSON.parse(await m.readFile(CONFIG_PATH));
    const withoutOperator = JSON.parse(JSON.stringify(config)) as Record<string, any>;
    delete withoutOperator.azure.servicePrincipal;
    await writeConfig(m, withoutOperator);
    await m.execOrThrow(['rm', '/etc/aks-flex-node/client-secret']);
    const tokens = entra.issued.length;
    const status = await flexnode(m, ['status', '--config', CONFIG_PATH, '--json'], env);
    const health = JSON.parse(status.stdout) as { results: { id: string; outcome: string; error?: { message: string }; check?: { reason?: string } }[] };
    const why = (r: (typeof health.results)[number]) => `${r.id}: ${r.outcome} ${r.error?.message ?? r.check?.reason ?? ''}`;
    expect(health.results.filter((r) => r.outcome !== 'healthy').map(why), 'every step healthy without the operator credential').to.deep.equal([]);
    expect(health.results.map((r) => r.id)).to.include.members([...ARC_STEPS, 'kube.version', 'kube.network', 'kube.binaries', 'kube.cluster-credentials', 'kube.pod-cidr', 'kube.kubelet', 'kube.node', 'kube.proxy']);
    expect(status.exitCode, status.stderr).to.equal(0);
    // The agent's cycles stay healthy too (its bootstrap finds everything converged, then checks).
    const agent = await flexnode(m, ['agent', '--config', CONFIG_PATH, '--max-cycles', '2', '--interval-ms', '200'], env);
    expect(agent.exitCode, await explain(m, agent)).to.equal(0);
    const seen = JSON.parse((await m.execOrThrow(['cat', '/var/lib/flexnode/status.json'])).stdout) as { cycles: number; healthy: boolean; steps: Record<string, { state: string }> };
    expect(seen.cycles).to.be.at.least(3);
    expect(seen.healthy, JSON.stringify(seen.steps)).to.equal(true);
    for (const r of health.results) expect(seen.steps[r.id]?.state, r.id).to.equal('ok');
    await m.execOrThrow(['rm', '/var/lib/flexnode/status.json']); // the agent's own file (uninstall.sh removes it)
    expect(entra.issued.length, 'tokens issued to the operator without its credential').to.equal(tokens);
    // Unbootstrap needs it, says so, and leaves Azure and the agent as they are.
    const refused = await flexnode(m, ['unbootstrap', '--config', CONFIG_PATH], env);
    expect(refused.exitCode, await explain(m, refused)).to.equal(1);
    expect(refused.stdout + refused.stderr).to.include("needs the operator's Azure credential").and.include('azure.servicePrincipal');
    expect(arm.machine(NODE), 'the Arc machine is kept until it can be deleted').to.not.equal(undefined);
    expect((await m.exec(['test', '-x', '/opt/azcmagent/bin/azcmagent'], { allowFailure: true })).exitCode, 'the agent holding the registration').to.equal(0);
    // Given back, unbootstrap finishes.
    await writeConfig(m, config);
    await m.writeFile('/etc/aks-flex-node/client-secret', CLIENT_SECRET, 0o600);

    const undo = await flexnode(m, ['unbootstrap', '--config', CONFIG_PATH, '--json'], env);
    expect(undo.exitCode, await explain(m, undo, 'kubelet.service')).to.equal(0);
    expect(kube.nodes().map((n: { metadata: { name: string } }) => n.metadata.name)).to.not.include(NODE);
    expect(arm.machine(NODE), 'Arc machine resource deleted').to.equal(undefined);
    for (const unit of ['containerd.service', 'kubelet.service']) {
      expect((await m.exec(['systemctl', 'is-active', unit], { allowFailure: true })).stdout.trim(), unit).to.not.equal('active');
    }
    const after = await m.snapshot(NOISE);
    // The kubelet's own run-time files (its pki) are not flexnode's to delete: see withoutKubeletLeftovers.
    const diff = await withoutKubeletLeftovers(diffSnapshots(pristine, after), after, async (dir) => (await m.exec(['ls', '-A', dir], { allowFailure: true })).stdout);
    expect(isEmptyDiff(diff), JSON.stringify(diff, null, 2)).to.equal(true);

    // The client secret was never printed.
    for (const out of [first, again, status, agent, refused, undo]) expect(out.stdout + out.stderr).to.not.contain(CLIENT_SECRET);
  });
});
