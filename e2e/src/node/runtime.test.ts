// Node in a box, container runtime and pod network: the real CLI inside a booted systemd machine installs
// runc, containerd and the CNI plugins from the host-side mirror (Debian's binaries in the upstream release
// layout), containerd runs a locally imported image, the written CNI config gives a pod netns an address, and
// unbootstrap leaves the machine's files as they were.
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diffSnapshots, startMachine, type Machine } from '../machine/machine.js';
import { isEmptyDiff } from '../machine/snapshot.js';
import { skipUnlessMachineSupported } from '../machine/probe.js';
import { buildArtifacts, type ArtifactManifest } from '../mirror/build-artifacts.js';
import { startMirror, type MirrorServer } from '../mirror/mirror-server.js';
import { buildEchoImage } from '../mirror/oci-image.js';
import { CONFIG_PATH, explain, flexnode, RUN_NOISE, writeConfig } from './cli-in-machine.js';
import { nodeConfig } from './node-config.js';

const NOISE = RUN_NOISE;

describe('node in a box: runtime and CNI bootstrapped by the CLI under real systemd', function () {
  this.timeout(300_000);
  let machine: Machine | undefined;
  let mirror: MirrorServer | undefined;
  let manifest: ArtifactManifest;
  let work: string;

  before(async function () {
    this.timeout(900_000); // the first run builds the rootfs with debootstrap
    await skipUnlessMachineSupported(this);
    manifest = await buildArtifacts();
    work = await mkdtemp(join(tmpdir(), 'flexnode-box-'));
    machine = await startMachine({ name: 'runtime', bindRepo: true });
    mirror = await startMirror(manifest, { host: machine.hostAddress });
    await writeConfig(machine, nodeConfig(manifest, mirror.url));
  });

  after(async () => {
    await machine?.stop();
    await mirror?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('bootstraps, runs a container, gives a pod an address, converges, and unbootstraps to the pristine tree', async () => {
    const m = machine!;
    const pristine = await m.snapshot(NOISE);

    const first = await flexnode(m, ['bootstrap', '--config', CONFIG_PATH, '--only', 'container-runtime,cni', '--json']);
    expect(first.exitCode, await explain(m, first, 'containerd.service')).to.equal(0);
    const report = JSON.parse(first.stdout);
    expect(report.results.map((r: { id: string; outcome: string }) => `${r.id}:${r.outcome}`)).to.include.members([
      'runc.binary:installed',
      'containerd.binaries:installed',
      'containerd.service:installed',
      'cni.plugins:installed',
      'cni.bridge-config:installed',
    ]);
    expect((await m.exec(['systemctl', 'is-active', 'containerd.service'], { allowFailure: true })).stdout.trim()).to.equal('active');
    expect((await m.exec(['systemctl', 'is-enabled', 'containerd.service'], { allowFailure: true })).stdout.trim()).to.equal('enabled');

    // A locally imported OCI image runs under the installed containerd and runc.
    const image = await buildEchoImage(join(work, 'echo.tar'));
    await m.writeFile('/root/echo.tar', await readFile(join(work, 'echo.tar')));
    await m.execOrThrow(['ctr', '-n', 'k8s.io', 'image', 'import', '/root/echo.tar'], { unit: 'containerd.service' });
    const ran = await m.execOrThrow(['ctr', '-n', 'k8s.io', 'run', '--rm', image, 'flexnode-e2e-echo'], { unit: 'containerd.service' });
    expect(ran.stdout).to.contain('hello from a container');
    await m.execOrThrow(['ctr', '-n', 'k8s.io', 'image', 'rm', image]);
    await m.exec(['rm', '-f', '/root/echo.tar']);

    // The written conflist, executed by the installed CNI plugins against a fresh netns (in a private namespace).
    // plugin-cni's own runner (the repository is bound into the machine at the same path).
    const runner = fileURLToPath(import.meta.resolve('@flexnode/plugin-cni/test-support/cni-chain-runner'));
    const cni = await m.execOrThrow(['unshare', '--net', '--mount', '--fork', 'node', runner, '/etc/cni/net.d/99-bridge.conflist', '/opt/cni/bin']);
    const pod = JSON.parse(cni.stdout);
    expect(pod.error, cni.stdout).to.equal(undefined);
    expect(pod.added.eth0.map((a: { local: string }) => a.local)[0]).to.match(/^10\.88\.0\.\d+$/);
    expect(pod.added.defaultRoutes).to.have.length(1);
    expect(pod.deleted.eth0).to.equal(0);

    // A converged re-run changes nothing, and its step work is well under a second.
    const again = await flexnode(m, ['bootstrap', '--config', CONFIG_PATH, '--only', 'container-runtime,cni', '--json']);
    expect(again.exitCode, await explain(m, again)).to.equal(0);
    const rerun = JSON.parse(again.stdout) as { elapsedMs: number; results: { id: string; outcome: string; durationMs: number }[] };
    console.log(`    converged re-run: step work ${rerun.elapsedMs} ms (${rerun.results.map((r) => `${r.id} ${r.durationMs} ms`).join(', ')})`);
    expect(rerun.results.every((r) => r.outcome === 'unchanged')).to.equal(true);
    expect(rerun.elapsedMs, 'wall time of the step work in ms').to.be.below(1000);

    const undo = await flexnode(m, ['unbootstrap', '--config', CONFIG_PATH, '--json']);
    expect(undo.exitCode, await explain(m, undo, 'containerd.service')).to.equal(0);
    expect((await m.exec(['systemctl', 'is-active', 'containerd.service'], { allowFailure: true })).stdout.trim()).to.not.equal('active');
    const diff = diffSnapshots(pristine, await m.snapshot(NOISE));
    expect(isEmptyDiff(diff), JSON.stringify(diff, null, 2)).to.equal(true);
  });
});
