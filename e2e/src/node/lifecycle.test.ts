// Node in a box, the life of a joined node: honest health, `flexnode upgrade` and the drain on the way out. One
// booted machine runs the real CLI against the FAKE ARM / Entra / HIMDS and the FAKE Kubernetes API (cordon,
// the Eviction API with PodDisruptionBudgets, Leases), with the kubelet STAND-IN under systemd running the pods
// bound to it through the real containerd. The scenarios run in sequence on the one node:
//   health: the API server stops answering (unhealthy after the grace), then answers again (healthy);
//   upgrade: refused outside the skew policy (exit 2, nothing changed); planned by --dry-run; a drain a PDB blocks
//   (exit 1 naming the pod, node uncordoned); the cluster's version (slot, cordon, drain, swap, Ready with the new
//   kubelet, uncordon); a broken kubelet build that never gets Ready (rolled back); SIGKILL right after the swap
//   (status says so, the next bootstrap rolls back);
//   unbootstrap: a PDB blocks the drain (the pod named, the node stays cordoned and says so), --force goes on:
//   no container of the kubelet's pods runs, cni0 and its NAT chains are gone, the tree is as before.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeObject } from '../fakes/fake-kube-api.js';
import { diffSnapshots, type Snapshot } from '../machine/machine.js';
import { skipUnlessMachineSupported } from '../machine/probe.js';
import { isEmptyDiff } from '../machine/snapshot.js';
import { addKubeRelease } from '../mirror/kube-release.js';
import { buildPodImage, buildSleepImage, POD_IMAGE, SLEEP_IMAGE } from '../mirror/oci-image.js';
import { CONFIG_PATH, explain, flexnode } from './cli-in-machine.js';
import { CLIENT_SECRET, CLUSTER_ID, NOISE, startJoinRig, type JoinRig } from './join-rig.js';

const NODE = 'life-node';
/** The control plane and the node start at V1; the control plane moves to V2; V2_BROKEN is a kubelet build that never gets Ready. */
const V1 = '1.31.14';
const V2 = '1.32.11';
const V2_BROKEN = '1.32.12';
const GRACE_SECONDS = 6;
const IMAGES = '/root/images';
const SANDBOX_RUNNER = fileURLToPath(new URL('./pod-sandbox.runner.js', import.meta.url));

interface CliReport {
  ok?: boolean;
  error?: { code: string; message: string };
  results?: { id: string; outcome: string; check?: { reason?: string; detail?: string } }[];
  [k: string]: unknown;
}

describe('node in a box: honest health, flexnode upgrade, and the drain on the way out', function () {
  this.timeout(600_000);
  let n: JoinRig | undefined;
  let pristine: Snapshot;

  before(async function () {
    this.timeout(900_000);
    await skipUnlessMachineSupported(this);
    // A kubenet cluster: its node-ipam gives the Node its pod range (the bridge's), AKS's kube-proxy serves Services.
    n = await startJoinRig({
      name: 'life',
      kubernetesVersion: V1,
      networkProfile: { networkPlugin: 'kubenet', podCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/16', dnsServiceIP: '10.96.0.10' },
      kube: { podCidr: { clusterCidr: '10.244.0.0/16' }, serviceCidr: '10.96.0.0/16' },
      node: { name: NODE },
    });
    // The operator deletes the Node on the way out (neither system:node nor flexnode's node role may delete one).
    n.arm.grant(n.entra.clients[0]!.objectId, 'Azure Kubernetes Service RBAC Admin', CLUSTER_ID);
    // Each release once, verified against the .sha256 beside it: the config pins no version (the node follows the
    // cluster's) and no checksum (the version moves).
    await addKubeRelease(n.manifest, n.work, V1);
    await addKubeRelease(n.manifest, n.work, V2);
    await addKubeRelease(n.manifest, n.work, V2_BROKEN, { neverReady: true });
    await buildPodImage(join(n.work, 'pod.tar'));
    await buildSleepImage(join(n.work, 'sleep.tar'));
    const base = n.config();
    await n.write(
      n.config({
        kubernetes: {},
        pluginConfig: {
          ...base.pluginConfig,
          '@flexnode/plugin-kube': {
            ...base.pluginConfig['@flexnode/plugin-kube'],
            apiServerGraceSeconds: GRACE_SECONDS,
            drainTimeoutSeconds: 12,
            readyTimeoutSeconds: 40,
            upgradeSlotWaitSeconds: 5,
          },
        },
      }),
    );
    const m = n.machine;
    pristine = await m.snapshot(NOISE);
    const first = await flexnode(m, ['bootstrap', '--config', CONFIG_PATH, '--json'], n.env);
    expect(first.exitCode, await explain(m, first, 'kubelet.service')).to.equal(0);
    await until(() => n!.kube.readyCondition(NODE)?.status === 'True', 60_000, 'the Node Ready', m);
    // The pods' images, as a node that pulled them would have them (the stand-in never pulls).
    await m.execOrThrow(['mkdir', '-p', IMAGES]);
    for (const image of ['pod.tar', 'sleep.tar']) {
      await m.writeFile(`${IMAGES}/${image}`, readFileSync(join(n.work, image)));
      await m.execOrThrow(['ctr', '-n', 'k8s.io', 'images', 'import', `${IMAGES}/${image}`]);
    }
    await m.execOrThrow(['rm', '-rf', IMAGES]);
  });

  after(async () => {
    await n?.stop();
  });

  const run = (args: string[], env: Record<string, string> = {}) => flexnode(n!.machine, [...args, '--config', CONFIG_PATH], { ...n!.env, ...env });
  const json = (stdout: string): CliReport => (stdout.trim() ? (JSON.parse(stdout) as CliReport) : {});
  const nodeObject = () =>
    n!.kube.node(NODE) as (KubeObject & { spec?: { unschedulable?: boolean }; status?: { nodeInfo?: { kubeletVersion?: string } } }) | undefined;
  const kubeletVersion = () => nodeObject()?.status?.nodeInfo?.kubeletVersion;
  const cordoned = () => nodeObject()?.spec?.unschedulable === true;
  const slotHolder = () => (n!.kube.lease('flexnode-upgrade-0')?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;
  const kubeletSha = async () => (await n!.machine.exec(['sha256sum', '/usr/local/bin/kubelet'])).stdout.split(' ')[0];
  const releaseSha = (version: string) => n!.manifest.lookup(`kubernetes/v${version}/kubelet-linux-${n!.manifest.arch}`)!.sha256;
  const podPhase = (name: string) => (n!.kube.pod('default', name)?.status as { phase?: string } | undefined)?.phase;
  const seedPods = async (pods: { name: string; owner?: 'ReplicaSet' | 'DaemonSet'; mirror?: boolean; labels?: Record<string, string> }[]) => {
    for (const p of pods) {
      n!.kube.seedPod({
        name: p.name,
        nodeName: NODE,
        phase: 'Pending',
        image: POD_IMAGE,
        labels: p.labels,
        mirror: p.mirror,
        ...(p.owner ? { owner: { kind: p.owner, name: p.name } } : {}),
      });
    }
    for (const p of pods.filter((x) => !x.mirror)) await until(() => podPhase(p.name) === 'Running', 60_000, `pod ${p.name} Running`, n!.machine);
  };
  /** The kubelet's containers in containerd (CRI or pod labels) → their task's pid, and every other one's. */
  const containers = async () => {
    const m = n!.machine;
    const pids = new Map(
      (await m.exec(['ctr', '-n', 'k8s.io', 'tasks', 'ls'])).stdout
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f.length >= 3)
        .map((f) => [f[0]!, f[1]!]),
    );
    const kubelet = new Map<string, string>();
    const others = new Map<string, string>();
    for (const id of (await m.exec(['ctr', '-n', 'k8s.io', 'containers', 'ls', '-q'])).stdout.split('\n').filter(Boolean)) {
      const labels = (JSON.parse((await m.exec(['ctr', '-n', 'k8s.io', 'containers', 'info', id])).stdout) as { Labels?: Record<string, string> }).Labels ?? {};
      (labels['io.kubernetes.pod.uid'] || labels['io.cri-containerd.kind'] ? kubelet : others).set(id, pids.get(id) ?? '');
    }
    return { kubelet, others };
  };

  it('status: healthy while the API server answers; unhealthy past the grace when it stops, with how long; healthy again when it answers', async () => {
    const kube = n!.kube;
    const kubeletCheck = (r: CliReport) => r.results?.find((x) => x.id === 'kube.kubelet');
    const before = await run(['status', '--json']);
    expect(before.exitCode, await explain(n!.machine, before)).to.equal(0);
    await kube.setReachable(false);
    try {
      const within = await run(['status', '--json']);
      expect(within.exitCode, `within the ${GRACE_SECONDS} s grace: ${within.stdout}`).to.equal(0);
      expect(kubeletCheck(json(within.stdout))?.check?.detail).to.match(/not reachable from here .*of the 6 s grace/);
      await new Promise((r) => setTimeout(r, (GRACE_SECONDS + 1) * 1000));
      const past = await run(['status', '--json']);
      expect(past.exitCode, past.stdout).to.equal(1);
      expect(kubeletCheck(json(past.stdout))).to.deep.include({ outcome: 'unhealthy' });
      expect(kubeletCheck(json(past.stdout))?.check?.reason).to.match(
        /API server https:\/\/\S+ not reachable from here .*; no answer for \d+ s \(since .*\), more than the 6 s grace/,
      );
    } finally {
      await kube.setReachable(true);
    }
    const again = await run(['status', '--json']);
    expect(again.exitCode, again.stdout).to.equal(0);
  });

  it('upgrade: a version outside the skew policy is refused before anything changes (exit 2 naming the rule and both versions)', async () => {
    const m = n!.machine;
    const tree = await m.snapshot(NOISE);
    n!.mirror.resetRequests();
    const refused = await run(['upgrade', '--to', V2]); // newer than the API server's V1
    expect(refused.exitCode, await explain(m, refused)).to.equal(2);
    expect(refused.stderr).to.include(`kubelet ${V2} (--to) is newer than the API server's ${V1}`).and.include("Kubernetes' version skew policy");
    expect(isEmptyDiff(diffSnapshots(tree, await m.snapshot(NOISE)))).to.equal(true);
    expect(n!.mirror.requests(), 'nothing downloaded').to.deep.equal([]);
    expect(cordoned()).to.equal(false);
    expect(n!.kube.lease('flexnode-upgrade-0')).to.equal(undefined);
  });

  it('upgrade --dry-run plans the move to the version the cluster moved to, and changes nothing', async () => {
    // AKS upgrades the control plane first; the node follows.
    n!.kube.upgradeControlPlane(V2);
    n!.arm.updateCluster(CLUSTER_ID, (c) => Object.assign(c, { kubernetesVersion: V2, currentKubernetesVersion: V2 }));
    const m = n!.machine;
    // A check's observation (when the API server last answered) is a note, not a change: left out here.
    const notes = [...NOISE, '/var/lib/flexnode/notes'];
    const tree = await m.snapshot(notes);
    const plan = await run(['upgrade', '--dry-run', '--json']);
    expect(plan.exitCode, await explain(m, plan)).to.equal(0);
    expect(json(plan.stdout)).to.deep.include({ from: V1, to: V2, source: 'cluster', apiServer: V2, changed: false });
    expect(json(plan.stdout).steps).to.include.members(['kube.version', 'kube.binaries']);
    const diff = diffSnapshots(tree, await m.snapshot(notes));
    expect(isEmptyDiff(diff), JSON.stringify(diff)).to.equal(true);
    expect(await kubeletSha()).to.equal(releaseSha(V1));
    expect(cordoned()).to.equal(false);
  });

  it('upgrade: a drain a PodDisruptionBudget blocks fails naming the pod; the node is uncordoned, its slot free, nothing replaced', async () => {
    await seedPods([
      { name: 'web', owner: 'ReplicaSet' },
      { name: 'agent', owner: 'DaemonSet' },
      { name: `static-${NODE}`, mirror: true },
      { name: 'guarded', owner: 'ReplicaSet', labels: { app: 'guarded' } },
    ]);
    n!.kube.seedPdb({ name: 'guarded-pdb', matchLabels: { app: 'guarded' }, minAvailable: 1 });
    const blocked = await run(['upgrade']);
    expect(blocked.exitCode, await explain(n!.machine, blocked)).to.equal(1);
    expect(blocked.stderr).to.match(
      /draining Node life-node timed out after 12 s: 1 pod still on it: default\/guarded \(PodDisruptionBudget default\/guarded-pdb allows no disruption now/,
    );
    expect(blocked.stderr).to.include('the upgrade did not start: Node life-node is uncordoned and back in service');
    expect(cordoned()).to.equal(false);
    expect(slotHolder()).to.equal(undefined);
    expect(await kubeletSha()).to.equal(releaseSha(V1));
    expect(kubeletVersion()).to.equal(`v${V1}`);
    expect(podPhase('guarded')).to.equal('Running');
  });

  it("upgrade to the cluster's version: slot, cordon, drain, swap, Ready with the new kubelet, uncordon; a second run has nothing to do", async () => {
    const m = n!.machine;
    n!.kube.deleteObject('poddisruptionbudgets', 'default', 'guarded-pdb');
    const guardedUid = n!.kube.pod('default', 'guarded')!.metadata.uid!;
    const auditFrom = n!.kube.audit.length;
    const up = await run(['upgrade', '--json']);
    expect(up.exitCode, await explain(m, up, 'kubelet.service')).to.equal(0);
    expect(json(up.stdout)).to.deep.include({ ok: true, changed: true, from: V1, to: V2, source: 'cluster' });
    expect(kubeletVersion()).to.equal(`v${V2}`);
    expect(await kubeletSha()).to.equal(releaseSha(V2));
    expect(cordoned()).to.equal(false);
    expect(slotHolder()).to.equal(undefined);
    // The order the cluster saw, as the node identity: the slot, the cordon, the evictions, the uncordon, the release.
    const principal = n!.arm.machine(NODE)!.principalId;
    const seen = n!.kube.audit
      .slice(auditFrom)
      .filter((e) => e.user === principal && e.code < 300 && e.userAgent === 'flexnode' && e.verb !== 'get' && e.verb !== 'list');
    const story = seen.map((e) => `${e.verb} ${e.resource}${e.subresource ? `/${e.subresource}` : ''} ${e.name}`.trim());
    // Created now (a POST names it in its body only), or taken again after the earlier try released it.
    expect(story[0]).to.match(/^(create leases|update leases flexnode-upgrade-0)$/);
    expect(story[1]).to.equal(`patch nodes ${NODE}`);
    expect(story.filter((s) => s.startsWith('create pods/eviction')).sort()).to.deep.equal(['create pods/eviction guarded']);
    expect(story.slice(-2)).to.deep.equal([`patch nodes ${NODE}`, 'update leases flexnode-upgrade-0']);
    // The evicted pod is gone, containers included; the DaemonSet's pod ran on.
    expect(n!.kube.pod('default', 'guarded')).to.equal(undefined);
    expect([...(await containers()).kubelet.keys()].some((id) => id.endsWith(guardedUid.replace(/-/g, '')))).to.equal(false);
    expect(podPhase('agent')).to.equal('Running');
    const again = await run(['upgrade', '--json']);
    expect(again.exitCode, await explain(m, again)).to.equal(0);
    expect(json(again.stdout)).to.deep.include({ changed: false, steps: [] });
    const status = await run(['status']);
    expect(status.exitCode, status.stdout).to.equal(0);
  });

  it('upgrade to a kubelet build that never gets Ready: rolled back to the previous binaries, restarted, uncordoned; exit 1 naming why', async () => {
    const m = n!.machine;
    const failed = await run(['upgrade', '--to', V2_BROKEN]);
    expect(failed.exitCode, await explain(m, failed, 'kubelet.service')).to.equal(1);
    expect(failed.stderr).to.match(
      new RegExp(
        `the upgrade from ${V2} to ${V2_BROKEN} failed: .*(did not come back Ready with kubelet v${V2_BROKEN}|is not Ready).*; rolled back to ${V2}, the node is back in service`,
      ),
    );
    expect(await kubeletSha()).to.equal(releaseSha(V2));
    expect((await m.exec(['systemctl', 'is-active', 'kubelet.service'], { allowFailure: true })).stdout.trim()).to.equal('active');
    await until(() => kubeletVersion() === `v${V2}` && n!.kube.readyCondition(NODE)?.status === 'True', 60_000, 'the previous kubelet back and Ready', m);
    expect(cordoned()).to.equal(false);
    expect(slotHolder()).to.equal(undefined);
    const status = await run(['status']);
    expect(status.exitCode, status.stdout).to.equal(0);
  });

  it('SIGKILL right after the swap: status says the upgrade did not finish; the next bootstrap rolls it back and puts the node back in service', async () => {
    const m = n!.machine;
    const killed = await run(['upgrade', '--to', V2_BROKEN], { FLEXNODE_CRASH_AT: 'step:kube.binaries:after-install' });
    expect(killed.exitCode, await explain(m, killed)).to.not.equal(0);
    expect(await kubeletSha(), 'killed after the swap').to.equal(releaseSha(V2_BROKEN));
    expect(cordoned()).to.equal(true);
    expect(slotHolder()).to.equal(NODE);
    const status = await run(['status', '--json']);
    expect(status.exitCode).to.equal(1);
    expect(json(status.stdout).upgrade).to.deep.include({ from: V2, to: V2_BROKEN, phase: 'swapping' });
    const human = await run(['status']);
    expect(human.stdout)
      .to.include(`an upgrade from ${V2} to ${V2_BROKEN}`)
      .and.include('`flexnode upgrade` or `flexnode bootstrap` finishes or rolls it back');
    const boot = await run(['bootstrap', '--json']);
    expect(boot.exitCode, await explain(m, boot, 'kubelet.service')).to.equal(0);
    expect(json(boot.stdout).recovered).to.match(new RegExp(`interrupted \\(swapping\\): rolled back to ${V2}, and the node is back in service`));
    expect(await kubeletSha()).to.equal(releaseSha(V2));
    expect(cordoned()).to.equal(false);
    expect(slotHolder()).to.equal(undefined);
    await until(() => kubeletVersion() === `v${V2}` && n!.kube.readyCondition(NODE)?.status === 'True', 60_000, 'the kubelet Ready again', m);
  });

  it('unbootstrap drains: a PodDisruptionBudget blocks (named, the node stays cordoned and says so); --force goes on: no pod container runs, cni0 and its NAT chains are gone, the tree is as before', async () => {
    const m = n!.machine;
    await seedPods([{ name: 'bare' }, { name: 'kept', owner: 'ReplicaSet', labels: { app: 'kept' } }]);
    n!.kube.seedPdb({ name: 'kept-pdb', matchLabels: { app: 'kept' }, minAvailable: 1 });
    // A pod sandbox as containerd's CRI makes one (the stand-in makes none): its namespace, the node's bridge
    // network (cni0, a NAT chain, a lease), the container holding it. And a container that is not the kubelet's.
    const sandbox = JSON.parse(
      (await m.execOrThrow(['node', SANDBOX_RUNNER, '/etc/cni/net.d/99-bridge.conflist', '/opt/cni/bin', SLEEP_IMAGE, 'sandboxed'])).stdout,
    ) as { id: string; netns: string; ip: string };
    const range = (nodeObject()?.spec as { podCIDR?: string } | undefined)?.podCIDR ?? '';
    expect(sandbox.ip.replace(/\.\d+\/24$/, '.0/24'), "an address of the node's pod range").to.equal(range);
    await m.execOrThrow(['ctr', '-n', 'k8s.io', 'run', '-d', '--null-io', SLEEP_IMAGE, 'not-the-kubelets']);
    const natChains = async () =>
      (await m.exec(['iptables', '-w', '-t', 'nat', '-S'])).stdout.split('\n').filter((l) => /^-N CNI-/.test(l) && !l.includes('HOSTPORT'));
    expect(await natChains(), 'the bridge plugin made its NAT chain').to.not.deep.equal([]);
    expect((await m.exec(['ip', 'link', 'show', 'cni0'], { allowFailure: true })).exitCode).to.equal(0);
    const { kubelet, others } = await containers();
    expect(kubelet.size, "the pods' containers and the sandbox").to.be.at.least(4);

    // The preview: the journal's account, nothing undone (the node not even cordoned).
    const preview = await run(['unbootstrap', '--dry-run', '--json']);
    expect(preview.exitCode, preview.stderr).to.equal(0);
    const previewed = (JSON.parse(preview.stdout) as { steps: { id: string; undo: { action: string; target: string }[] }[] }).steps;
    expect(previewed.map((st) => st.id)).to.include.members(['kube.kubelet', 'containerd.service', 'arc.connect']);
    expect(previewed.find((st) => st.id === 'containerd.service')?.undo.map((u) => `${u.action} ${u.target}`)).to.include('stop containerd.service');
    expect(cordoned(), 'a dry run cordons nothing').to.equal(false);
    expect(n!.kube.node(NODE)).to.not.equal(undefined);

    const blocked = await run(['unbootstrap', '--json']);
    expect(blocked.exitCode, await explain(m, blocked)).to.equal(1);
    const failure = json(blocked.stdout).results?.find((r) => r.id === 'kube.kubelet') as { error?: { message: string } } | undefined;
    expect(failure?.error?.message).to.match(
      /draining Node life-node timed out after 12 s: 1 pod still on it: default\/kept \(PodDisruptionBudget default\/kept-pdb/,
    );
    expect(failure?.error?.message).to.include('Node life-node stays cordoned: the unbootstrap is under way');
    expect(cordoned()).to.equal(true);
    expect((nodeObject()?.metadata.annotations ?? {})['flexnode.io/cordoned-by']).to.equal('unbootstrap');
    expect(n!.kube.pod('default', 'bare'), 'the pod without a budget was evicted').to.equal(undefined);
    const status = await run(['status', '--json']);
    expect(status.exitCode).to.equal(1);
    expect(json(status.stdout).results?.find((r) => r.id === 'kube.kubelet')?.check?.reason).to.match(
      /an unbootstrap began taking Node life-node out .*`flexnode unbootstrap` finishes it/,
    );

    const forced = await run(['unbootstrap', '--force', '--json']);
    expect(forced.exitCode, await explain(m, forced, 'kubelet.service')).to.equal(0);
    const nodeDeletes = n!.kube.audit.filter((e) => e.resource === 'nodes' && e.verb === 'delete').map((e) => `${e.code} ${e.user}: ${e.message ?? ''}`);
    expect(n!.kube.node(NODE), `${nodeDeletes.join('\n')}\n${forced.stdout}\n${forced.stderr}`).to.equal(undefined);
    for (const [id, pid] of kubelet) {
      expect((await m.exec(['kill', '-0', pid], { allowFailure: true })).exitCode, `the kubelet's container ${id} (pid ${pid}) still runs`).to.not.equal(0);
    }
    for (const [id, pid] of others)
      expect((await m.exec(['kill', '-0', pid], { allowFailure: true })).exitCode, `${id} is not the kubelet's: it runs on`).to.equal(0);
    expect((await m.exec(['ip', 'link', 'show', 'cni0'], { allowFailure: true })).exitCode, 'cni0').to.not.equal(0);
    expect(await natChains(), "the pods' NAT chains").to.deep.equal([]);
    expect((await m.exec(['ip', 'netns', 'list'])).stdout).to.not.include(sandbox.netns);
    // Not the kubelet's: stopped by the test (containerd is gone; its shim keeps it alive).
    for (const pid of others.values()) await m.exec(['kill', '-9', pid], { allowFailure: true });

    // What the kubelet wrote (its certificates, its pods' directories) went with the node: the tree is as before.
    const after = await m.snapshot(NOISE);
    const diff = diffSnapshots(pristine, after);
    expect(isEmptyDiff(diff), JSON.stringify(diff, null, 2)).to.equal(true);
    for (const out of [blocked, status, forced]) expect(out.stdout + out.stderr).to.not.contain(CLIENT_SECRET);
  });
});

/** Poll until `predicate` holds; the kubelet's journal in the error. */
async function until(predicate: () => boolean | Promise<boolean>, ms: number, what: string, m: JoinRig['machine']): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${await m.journal('kubelet.service', 40)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
