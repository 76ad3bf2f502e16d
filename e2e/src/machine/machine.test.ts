// Node in a box: a real systemd machine (systemd-nspawn) that installs containerd from the host's mirror,
// runs a container, and leaves nothing behind when stopped. Skips with the reason when the host cannot.
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { buildArtifacts, type ArtifactManifest } from '../mirror/build-artifacts.js';
import { startMirror, type MirrorServer } from '../mirror/mirror-server.js';
import { run } from '../mirror/run.js';
import { diffSnapshots, MachineCommandError, startMachine, type Machine } from './machine.js';
import { skipUnlessMachineSupported } from './probe.js';

const CONTAINERD_UNIT = `[Unit]
Description=containerd (installed by the e2e test from the mirror)
After=network.target local-fs.target e2e-cgroup-rw.service

[Service]
ExecStart=/usr/local/bin/containerd
Type=notify
Delegate=yes
KillMode=process
Restart=always
LimitNOFILE=infinity

[Install]
WantedBy=multi-user.target
`;

describe('node in a box: systemd-nspawn machine harness', function () {
  this.timeout(120_000);
  let machine: Machine | undefined;
  let mirror: MirrorServer | undefined;
  let manifest: ArtifactManifest;

  before(async function () {
    this.timeout(900_000); // the first run builds the rootfs with debootstrap (about 90 s)
    await skipUnlessMachineSupported(this);
    manifest = await buildArtifacts();
    const t0 = Date.now();
    machine = await startMachine({ name: 'harness' });
    console.log(`    booted ${machine.name} in ${Date.now() - t0} ms (host side ${machine.hostVeth} ${machine.hostAddress})`);
    // Bound to the veth's host address: the machine cannot reach the host's 127.0.0.1.
    mirror = await startMirror(manifest, { host: machine.hostAddress });
  });

  after(async () => {
    await machine?.stop();
    await mirror?.close();
  });

  it('boots real systemd: is-system-running answers running', async () => {
    const { stdout } = await machine!.exec(['systemctl', 'is-system-running'], { allowFailure: true });
    expect(stdout.trim()).to.be.oneOf(['running', 'degraded']);
  });

  it('daemon-reload, enable --now and is-active work on a unit file we write', async () => {
    const m = machine!;
    await m.writeFile('/etc/systemd/system/e2e-hello.service', '[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n');
    await m.execOrThrow(['systemctl', 'daemon-reload']);
    await m.execOrThrow(['systemctl', 'enable', '--now', 'e2e-hello.service'], { unit: 'e2e-hello.service' });
    expect((await m.exec(['systemctl', 'is-active', 'e2e-hello.service'])).stdout.trim()).to.equal('active');
    expect(await m.readFile('/etc/systemd/system/multi-user.target.wants/e2e-hello.service')).to.include('sleep infinity');
  });

  it('execOrThrow puts stdout, stderr and the unit journal in the error', async () => {
    const m = machine!;
    await m.writeFile('/etc/systemd/system/e2e-fail.service', '[Service]\nType=oneshot\nExecStart=/bin/sh -c "echo boom-from-unit; exit 3"\n');
    await m.execOrThrow(['systemctl', 'daemon-reload']);
    const err = await m.execOrThrow(['systemctl', 'start', 'e2e-fail.service'], { unit: 'e2e-fail.service' }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(MachineCommandError);
    expect((err as Error).message)
      .to.include('--- stderr')
      .and.include('boom-from-unit');
  });

  it('downloads containerd and runc from the host mirror over the veth, starts containerd, runs a container', async function () {
    this.timeout(180_000);
    const m = machine!;
    const fetchAndCheck = async (name: string, to: string) => {
      const a = manifest.get(name);
      await m.execOrThrow(['curl', '-fsS', '--max-time', '60', '-o', to, mirror!.urlOf(a.mirrorPath)]);
      const { stdout } = await m.execOrThrow(['sha256sum', to]);
      expect(stdout.split(' ')[0], `${name} sha256`).to.equal(a.sha256);
    };
    await fetchAndCheck('containerd', '/tmp/containerd.tar.gz');
    await fetchAndCheck('runc', '/usr/local/sbin/runc');
    await m.execOrThrow(['chmod', '0755', '/usr/local/sbin/runc']);
    await m.execOrThrow(['tar', '-C', '/usr/local', '-xzf', '/tmp/containerd.tar.gz']);
    await m.writeFile('/etc/systemd/system/containerd.service', CONTAINERD_UNIT);
    await m.execOrThrow(['systemctl', 'daemon-reload']);
    await m.execOrThrow(['systemctl', 'enable', '--now', 'containerd.service'], { unit: 'containerd.service' });
    expect((await m.exec(['systemctl', 'is-active', 'containerd.service'])).stdout.trim()).to.equal('active');
    const version = await m.execOrThrow(['ctr', 'version'], { unit: 'containerd.service' });
    expect(version.stdout).to.match(/Server:[\s\S]*Version:\s+\S*1\.6/);

    // A tiny rootfs: /usr/bin/echo and the libraries ldd names, enough for `ctr run --rootfs`.
    const mk =
      'set -e; r=/tmp/ctr-rootfs; mkdir -p $r/usr/bin; cp /usr/bin/echo $r/usr/bin/; for l in $(ldd /usr/bin/echo | grep -o "/[^ ]*"); do mkdir -p $r$(dirname $l); cp -L $l $r$l; done';
    await m.execOrThrow(['sh', '-c', mk]);
    const out = await m.execOrThrow(['ctr', 'run', '--rm', '--rootfs', '/tmp/ctr-rootfs', 'e2e-echo', '/usr/bin/echo', 'hello-from-a-container'], {
      unit: 'containerd.service',
      timeoutMs: 60_000,
    });
    expect(out.stdout).to.include('hello-from-a-container');
    // Nothing fetched twice.
    for (const r of mirror!.requests()) expect(r.count, r.path).to.equal(1);
  });

  it('snapshots the disk tree and diffs it', async () => {
    const m = machine!;
    const a = await m.snapshot(['/var/log']);
    await m.writeFile('/etc/e2e-added.conf', 'x=1\n', 0o600);
    await m.writeFile('/etc/hostname', 'changed\n');
    const b = await m.snapshot(['/var/log']);
    const d = diffSnapshots(a, b);
    expect(d.added).to.deep.equal(['/etc/e2e-added.conf']);
    expect(d.changed.map((c) => c.path)).to.include('/etc/hostname');
    expect(d.removed).to.deep.equal([]);
    expect(b.get('/etc/e2e-added.conf')).to.include({ type: 'file', mode: 0o600, uid: 0, gid: 0 });
  });

  it('stop() leaves no mount, process, veth or directory behind', async () => {
    const m = machine!;
    const t0 = Date.now();
    await m.stop();
    console.log(`    stopped in ${Date.now() - t0} ms`);
    const mounts = await readFile('/proc/mounts', 'utf8');
    expect(mounts).to.not.include(m.root.replace(/\/merged$/, ''));
    for (const pid of [m.pid, m.nspawnPid]) expect(existsSync(`/proc/${pid}`), `pid ${pid}`).to.equal(false);
    const links = (await run(['ip', '-o', 'link', 'show'])).stdout;
    expect(links).to.not.include(m.hostVeth);
    expect(existsSync(m.root)).to.equal(false);
  });
});
