// Node in a box, a swapped container runtime: @org/plugin-crun installed from a plain path (no registry) takes over
// `container-runtime`; the real CLI bootstraps Debian's containerd and crun from an apt repository the machine can
// reach (an air-gapped site's mirror, in small), a pod run through containerd's CRI (as the kubelet runs one) runs
// under crun, and unbootstrap leaves the machine as it was. Uninstalling the plugin swaps back to runc: bootstrap
// undoes crun's steps from the journal and installs plugin-containerd's.
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diffSnapshots, startMachine, type Machine, type Snapshot } from '../machine/machine.js';
import { isEmptyDiff } from '../machine/snapshot.js';
import { skipUnlessMachineSupported } from '../machine/probe.js';
import { aptRepoUnavailable, buildAptRepo, type AptRepo } from '../mirror/apt-repo.js';
import { buildArtifacts, type ArtifactManifest } from '../mirror/build-artifacts.js';
import { startMirror, type MirrorServer } from '../mirror/mirror-server.js';
import { buildEchoImage, buildSleepImage, SLEEP_IMAGE } from '../mirror/oci-image.js';
import { repoRoot } from '../mirror/paths.js';
import { packWithBundledDependencies } from '../plugins/pack-plugin.js';
import { CONFIG_PATH, explain, flexnode, RUN_NOISE, writeConfig } from './cli-in-machine.js';
import { nodeConfig } from './node-config.js';

// Besides what running anything changes: package-manager bookkeeping (the packages themselves are compared with
// dpkg-query), CNI's runtime state of the test's pod, and the plugins dir (plugins install is not bootstrap).
const NOISE = [...RUN_NOISE, '/var/lib/dpkg', '/var/lib/apt', '/var/lib/cni', '/var/lib/flexnode-plugins'];
/** What the machine lacks of containerd's and crun's packages (its image has the other dependencies). */
const DEBS = ['containerd', 'runc', 'crun', 'libyajl2'];
const SHARED = '/srv/flexnode-e2e';
const SOCKET = '/run/containerd/containerd.sock';

describe('node in a box: containerd with crun from @org/plugin-crun, and back to runc', function () {
  this.timeout(600_000);
  let machine: Machine | undefined;
  let mirror: MirrorServer | undefined;
  let manifest: ArtifactManifest;
  let repo: AptRepo;
  let work: string;
  let tarball: string;
  let pristine: Snapshot;
  let packagesBefore: string;
  // The CRI client script, run inside the machine (the repository is bound into it at the same path).
  const cri = fileURLToPath(new URL('../runtime/cri-pod.runner.js', import.meta.url));

  before(async function () {
    this.timeout(900_000);
    await skipUnlessMachineSupported(this);
    const noRepo = await aptRepoUnavailable();
    if (noRepo) {
      console.log(`    SKIP: a local apt repository cannot be made here: ${noRepo}`);
      this.skip();
    }
    manifest = await buildArtifacts();
    repo = await buildAptRepo(DEBS);
    work = await mkdtemp(join(tmpdir(), 'flexnode-crun-'));
    tarball = await packWithBundledDependencies(join(repoRoot(), 'examples/plugin-crun'), work);
    await buildSleepImage(join(work, 'sleep.tar'));
    await buildEchoImage(join(work, 'echo.tar'));
    machine = await startMachine({
      name: 'crun',
      bindRepo: true,
      bindRo: [
        { host: repo.dir, machine: repo.mountPoint },
        { host: work, machine: SHARED },
      ],
    });
    mirror = await startMirror(manifest, { host: machine.hostAddress });
    const config = nodeConfig(manifest, mirror.url);
    // The sandbox image is one the test imports (no registry). The box (like the VM it runs in) has no
    // CAP_SYS_RESOURCE in its bounding set, so no process in it can lower an OOM score: containerd must keep pods'
    // at its own, as it does for nodes in containers.
    config['pluginConfig'] = { ...config['pluginConfig'], '@org/plugin-crun': { pauseImage: SLEEP_IMAGE, restrictOOMScoreAdj: true } };
    await writeConfig(machine, config);
    // The site's apt mirror, as the machine's operator set it up: the only source apt reads from here.
    await machine.writeFile('/etc/apt/sources.list.d/flexnode-e2e.list', repo.sourcesLine);
    await machine.execOrThrow([
      'apt-get',
      'update',
      '-o',
      'Dir::Etc::sourcelist=sources.list.d/flexnode-e2e.list',
      '-o',
      'Dir::Etc::sourceparts=-',
      '-o',
      'APT::Get::List-Cleanup=0',
    ]);
  });

  after(async () => {
    await machine?.stop();
    await mirror?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const installed = async (m: Machine) =>
    (await m.exec(['dpkg-query', '-W', '-f=${Package} ${db:Status-Status}\\n'])).stdout
      .split('\n')
      .filter((l) => l.endsWith(' installed'))
      .sort()
      .join('\n');
  const bootstrap = async (m: Machine) => {
    const r = await flexnode(m, ['bootstrap', '--config', CONFIG_PATH, '--only', 'container-runtime,cni', '--json']);
    expect(r.exitCode, await explain(m, r, 'containerd.service')).to.equal(0);
    return JSON.parse(r.stdout) as { results: { id: string; outcome: string }[]; removed: { id: string; outcome: string }[] };
  };
  const outcomes = (results: { id: string; outcome: string }[]) => results.map((r) => `${r.id}:${r.outcome}`);

  it('installs the plugin from a plain path, without a registry; it provides container-runtime, plugin-containerd steps aside', async () => {
    const m = machine!;
    const install = await flexnode(m, ['plugins', 'install', `${SHARED}/${basename(tarball)}`, '--json']);
    expect(install.exitCode, await explain(m, install)).to.equal(0);
    expect(JSON.parse(install.stdout).installed[0]).to.deep.include({ name: '@org/plugin-crun', version: '0.1.0' });
    const steps = JSON.parse((await flexnode(m, ['steps', '--json', '--config', CONFIG_PATH])).stdout);
    expect(steps.problems).to.deep.equal([]);
    expect(steps.capabilities.find((c: { capability: string }) => c.capability === 'container-runtime')).to.deep.include({
      provider: '@org/plugin-crun',
      reason: 'installed plugin over bundled',
    });
    const aside = steps.skipped.filter((s: { plugin: string }) => s.plugin === '@flexnode/plugin-containerd').map((s: { id: string }) => s.id);
    expect(aside).to.have.members(['runc.binary', 'containerd.binaries', 'containerd.packages', 'containerd.config', 'containerd.service']);
  });

  it('bootstraps containerd with crun; a pod run through the CRI runs under crun; unbootstrap leaves the machine pristine', async () => {
    const m = machine!;
    pristine = await m.snapshot(NOISE);
    packagesBefore = await installed(m);
    const report = await bootstrap(m);
    expect(outcomes(report.results)).to.include.members([
      'crun.packages:installed',
      'crun.config:installed',
      'crun.service:installed',
      'cni.plugins:installed',
      'cni.bridge-config:installed',
    ]);
    expect(report.results.map((r) => r.id)).to.not.include.members(['runc.binary', 'containerd.service']);
    expect(
      (await m.exec(['systemctl', 'is-active', 'containerd.service'], { allowFailure: true })).stdout.trim(),
      await m.journal('containerd.service', 80),
    ).to.equal('active');

    // A pod, as the kubelet runs one: the sandbox (an image that sleeps, as pause does) and a container in it that
    // keeps running (a container that exits at once can race Debian's containerd 1.6 shim, which then drops both).
    await m.execOrThrow(['ctr', '-n', 'k8s.io', 'image', 'import', `${SHARED}/sleep.tar`], { unit: 'containerd.service' });
    const pod = JSON.parse((await m.execOrThrow(['node', cri, SOCKET, SLEEP_IMAGE, '/usr/bin/sleep', '3600'], { unit: 'containerd.service' })).stdout) as {
      sandboxId: string;
      containerId: string;
    };
    // containerd runs the container with the runc v2 shim driving crun, as the config says ...
    const info = JSON.parse((await m.execOrThrow(['ctr', '-n', 'k8s.io', 'containers', 'info', pod.containerId])).stdout) as {
      Runtime: { Name: string; Options?: unknown };
    };
    expect(info.Runtime.Name).to.equal('io.containerd.runc.v2');
    expect(`${JSON.stringify(info.Runtime.Options ?? {})} ${decodedOptions(info.Runtime.Options)}`, JSON.stringify(info.Runtime)).to.contain('/usr/bin/crun');
    // ... and crun is what holds the sandbox's task: its state is in crun's format under the shim's root.
    const listed = await m.execOrThrow(['crun', '--root', '/run/containerd/runc/k8s.io', 'list']);
    const tasks = (await m.exec(['ctr', '-n', 'k8s.io', 'task', 'ls'], { allowFailure: true })).stdout;
    for (const id of [pod.sandboxId, pod.containerId])
      expect(listed.stdout, `crun list:\n${listed.stdout}\nctr task ls:\n${tasks}`).to.match(new RegExp(`^${id}\\s+\\d+\\s+running\\s`, 'm'));
    await m.execOrThrow(['node', cri, SOCKET, '--remove', pod.sandboxId]);
    await m.execOrThrow(['ctr', '-n', 'k8s.io', 'image', 'rm', SLEEP_IMAGE]);

    const undo = await flexnode(m, ['unbootstrap', '--config', CONFIG_PATH, '--json']);
    expect(undo.exitCode, await explain(m, undo, 'containerd.service')).to.equal(0);
    expect((await m.exec(['systemctl', 'is-active', 'containerd.service'], { allowFailure: true })).stdout.trim()).to.not.equal('active');
    expect(await installed(m), 'the packages apt installed (containerd, crun and their dependencies) are purged').to.equal(packagesBefore);
    const diff = diffSnapshots(pristine, await m.snapshot(NOISE));
    expect(isEmptyDiff(diff), JSON.stringify(diff, null, 2)).to.equal(true);
  });

  it('swaps back to runc: with the plugin uninstalled, bootstrap undoes its steps from the journal, then installs runc and containerd', async () => {
    const m = machine!;
    await bootstrap(m);
    const uninstall = await flexnode(m, ['plugins', 'uninstall', '@org/plugin-crun', '--json']);
    expect(uninstall.exitCode, await explain(m, uninstall)).to.equal(0);
    const swapped = await bootstrap(m);
    expect(outcomes(swapped.removed)).to.deep.equal(['crun.service:removed', 'crun.config:removed', 'crun.packages:removed']);
    expect(outcomes(swapped.results)).to.include.members([
      'runc.binary:installed',
      'containerd.binaries:installed',
      'containerd.config:installed',
      'containerd.service:installed',
    ]);
    expect(await installed(m), 'the crun packages are purged').to.equal(packagesBefore);
    expect((await m.exec(['systemctl', 'is-active', 'containerd.service'], { allowFailure: true })).stdout.trim()).to.equal('active');
    // A container runs under runc again (ctr's default), from the release containerd.
    await m.execOrThrow(['ctr', '-n', 'k8s.io', 'image', 'import', `${SHARED}/echo.tar`], { unit: 'containerd.service' });
    const ran = await m.execOrThrow(['ctr', '-n', 'k8s.io', 'run', '--rm', 'docker.io/flexnode-test/echo:1', 'flexnode-e2e-runc'], {
      unit: 'containerd.service',
    });
    expect(ran.stdout).to.contain('hello from a container');
    await m.execOrThrow(['ctr', '-n', 'k8s.io', 'image', 'rm', 'docker.io/flexnode-test/echo:1']);
    // A converged re-run changes nothing.
    const again = await bootstrap(m);
    expect(again.removed).to.deep.equal([]);
    expect(again.results.every((r) => r.outcome === 'unchanged')).to.equal(true);

    const undo = await flexnode(m, ['unbootstrap', '--config', CONFIG_PATH, '--json']);
    expect(undo.exitCode, await explain(m, undo, 'containerd.service')).to.equal(0);
    const diff = diffSnapshots(pristine, await m.snapshot(NOISE));
    expect(isEmptyDiff(diff), JSON.stringify(diff, null, 2)).to.equal(true);
  });
});

/** The runtime options of `ctr containers info` when it prints them as a protobuf Any (base64 `value`). */
function decodedOptions(options: unknown): string {
  const value = (options as { value?: string } | undefined)?.value;
  return value ? Buffer.from(value, 'base64').toString('latin1') : '';
}
