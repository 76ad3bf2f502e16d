// Node in a box, the full cycle: a booted Debian machine with real systemd, where the real CLI bootstraps the
// whole node (preflight, OS prerequisites, runc/containerd and the CNI plugins for real from the host-side
// mirror, Arc registration and role assignments against the FAKE ARM and FAKE Entra, the kubelet STAND-IN under
// systemd authenticating with tokens from the FAKE Arc HIMDS to the FAKE Kubernetes API), re-runs converged,
// and unbootstraps to the pristine tree. Only Azure, the API server, azcmagent and the kubelet are fakes or
// stand-ins: nothing else here can be had on these machines.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diffSnapshots } from '../machine/machine.js';
import { skipUnlessMachineSupported } from '../machine/probe.js';
import { isEmptyDiff } from '../machine/snapshot.js';
import { buildEchoImage } from '../mirror/oci-image.js';
import { repoRoot } from '../mirror/paths.js';
import { CONFIG_PATH, explain, flexnode } from './cli-in-machine.js';
import { CLIENT_SECRET, NODE, startFullNodeRig, type FullNodeRig } from './full-node-rig.js';

// Written by anything that runs (logs, journald, systemd's own state), or by the kubelet and containerd
// themselves at run time: not flexnode's files.
// (/var/backups: Debian's dpkg-db-backup.timer writes there at midnight.)
const NOISE = ['/var/log', '/var/lib/systemd', '/var/cache', '/etc/machine-id', '/var/lib/containerd', '/var/tmp', '/root/.npm', '/root/.cache', '/var/lib/kubelet/pki', '/var/backups'];

describe('node in a box: the full cycle (bootstrap, converge, unbootstrap) with Arc and the kubelet', function () {
  this.timeout(600_000);
  let rig: FullNodeRig | undefined;

  before(async function () {
    this.timeout(900_000);
    await skipUnlessMachineSupported(this);
    rig = await startFullNodeRig();
  });

  after(async () => {
    await rig?.stop();
  });

  it('joins the node, converges on a re-run, and unbootstrap restores every file', async () => {
    const { machine: m, kube, arm, env, work } = rig!;
    const pristine = await m.snapshot(NOISE);

    const first = await flexnode(m, ['bootstrap', '--config', CONFIG_PATH, '--json'], env);
    expect(first.exitCode, await explain(m, first, 'kubelet.service')).to.equal(0);
    for (const unit of ['containerd.service', 'kubelet.service']) {
      expect((await m.exec(['systemctl', 'is-active', unit], { allowFailure: true })).stdout.trim(), unit).to.equal('active');
    }

    // The kubelet stand-in registers the Node with a HIMDS token through `flexnode token`; it becomes Ready.
    const deadline = Date.now() + 60_000;
    while (kube.readyCondition(NODE)?.status !== 'True' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    expect(kube.readyCondition(NODE)?.status, await m.journal('kubelet.service')).to.equal('True');
    expect(arm.machine(NODE), 'Arc machine resource').to.not.equal(undefined);
    expect(arm.roleAssignments().length, 'role assignments for the node identity').to.be.at.least(1);

    // Real containerd and runc run a locally imported image; the CNI config gives a pod an address.
    const image = await buildEchoImage(join(work, 'echo.tar'));
    await m.writeFile('/root/echo.tar', readFileSync(join(work, 'echo.tar')));
    await m.execOrThrow(['ctr', '-n', 'default', 'image', 'import', '/root/echo.tar'], { unit: 'containerd.service' });
    expect((await m.execOrThrow(['ctr', '-n', 'default', 'run', '--rm', image, 'e2e-echo'])).stdout).to.contain('hello from a container');
    await m.execOrThrow(['ctr', '-n', 'default', 'image', 'rm', image]);
    await m.exec(['rm', '-f', '/root/echo.tar']);
    const runner = `${repoRoot()}/packages/plugin-cni/dist/cni-chain.test.runner.js`;
    const pod = JSON.parse((await m.execOrThrow(['unshare', '--net', '--mount', '--fork', 'node', runner, '/etc/cni/net.d/99-bridge.conflist', '/opt/cni/bin'])).stdout);
    expect(pod.added?.eth0?.[0]?.local, JSON.stringify(pod)).to.match(/^10\.88\.0\.\d+$/);

    // Converged: nothing changes, and the steps' own work is well under a second.
    const again = await flexnode(m, ['bootstrap', '--config', CONFIG_PATH, '--json'], env);
    expect(again.exitCode, await explain(m, again)).to.equal(0);
    const rerun = JSON.parse(again.stdout) as { elapsedMs: number; results: { id: string; outcome: string; durationMs: number }[] };
    console.log(`      converged re-run: step work ${rerun.elapsedMs} ms (${rerun.results.map((r) => `${r.id} ${r.durationMs} ms`).join(', ')})`);
    expect(rerun.results.filter((r) => r.outcome !== 'unchanged').map((r) => r.id)).to.deep.equal([]);

    const undo = await flexnode(m, ['unbootstrap', '--config', CONFIG_PATH, '--json'], env);
    expect(undo.exitCode, await explain(m, undo, 'kubelet.service')).to.equal(0);
    expect(kube.nodes().map((n: { metadata: { name: string } }) => n.metadata.name)).to.not.include(NODE);
    expect(arm.machine(NODE), 'Arc machine resource deleted').to.equal(undefined);
    for (const unit of ['containerd.service', 'kubelet.service']) {
      expect((await m.exec(['systemctl', 'is-active', unit], { allowFailure: true })).stdout.trim(), unit).to.not.equal('active');
    }
    const diff = diffSnapshots(pristine, await m.snapshot(NOISE));
    expect(isEmptyDiff(diff), JSON.stringify(diff, null, 2)).to.equal(true);

    // The client secret was never printed.
    for (const out of [first, again, undo]) expect(out.stdout + out.stderr).to.not.contain(CLIENT_SECRET);
  });
});
