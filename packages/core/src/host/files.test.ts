import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { makeHost, makeTmp, sha256 } from './support.test.helpers.js';

describe('host/files', () => {
  it('writes under the root, creating parents, and a second identical write is a no-op that journals nothing', async () => {
    const { root, real, journal } = await makeHost();
    const host = real.forStep('containerd.config', '@flexnode/plugin-containerd');
    expect(await host.files.write('/etc/containerd/config.toml', 'version = 2\n')).to.equal(true);
    expect(await fs.readFile(join(root, 'etc/containerd/config.toml'), 'utf8')).to.equal('version = 2\n');
    expect((await fs.stat(join(root, 'etc/containerd/config.toml'))).mode & 0o7777).to.equal(0o644);
    const changes = host.changes.list();
    expect(changes).to.deep.equal([
      { kind: 'mkdir', path: '/etc' },
      { kind: 'mkdir', path: '/etc/containerd' },
      { kind: 'file', path: '/etc/containerd/config.toml', before: { exists: false } },
    ]);
    expect(journal!.get('containerd.config')!.plugin).to.equal('@flexnode/plugin-containerd');

    expect(await host.files.write('/etc/containerd/config.toml', 'version = 2\n')).to.equal(false);
    expect(host.changes.list()).to.have.length(3);
    // A mode change alone is a change; the before-state is not journaled twice.
    expect(await host.files.write('/etc/containerd/config.toml', 'version = 2\n', { mode: 0o640 })).to.equal(true);
    expect(host.changes.list()).to.have.length(3);
  });

  it('journals the before-state with a backup and revert restores content, mode and owner', async () => {
    const { root, real, reload } = await makeHost();
    await fs.mkdir(join(root, 'etc/default'), { recursive: true });
    const path = join(root, 'etc/default/kubelet');
    await fs.writeFile(path, 'OLD=1\n');
    await fs.chmod(path, 0o640);
    await fs.chown(path, 1234, 4321);

    const host = real.forStep('kubelet.config', 'p');
    await host.files.write('/etc/default/kubelet', 'NEW=1\n');
    await host.files.write('/etc/default/kubelet', 'NEWER=1\n');
    const [change] = host.changes.list();
    expect(change).to.deep.include({ kind: 'file', path: '/etc/default/kubelet' });
    const before = (change as { before: { sha256: string; backup: string; mode: number; uid: number } }).before;
    expect(before).to.include({ exists: true, type: 'file', mode: 0o640, uid: 1234, gid: 4321, sha256: sha256('OLD=1\n') });
    expect(await fs.readFile(join(root, 'var/lib/flexnode/backups', before.backup), 'utf8')).to.equal('OLD=1\n');
    expect(host.changes.list()).to.have.length(1);
    // The journal on disk has it too (write-ahead).
    expect((await reload()).get('kubelet.config')!.changes).to.have.length(1);

    await host.changes.revert();
    const stat = await fs.stat(path);
    expect(await fs.readFile(path, 'utf8')).to.equal('OLD=1\n');
    expect([stat.mode & 0o7777, stat.uid, stat.gid]).to.deep.equal([0o640, 1234, 4321]);
    expect(host.changes.list()).to.deep.equal([]);
  });

  it('revert removes files that did not exist and the directories it created, only when empty', async () => {
    const { root, real } = await makeHost();
    await fs.mkdir(join(root, 'etc'), { recursive: true });
    const host = real.forStep('cni.config', 'p');
    await host.files.write('/etc/cni/net.d/99-bridge.conf', '{}');
    await host.files.mkdir('/opt/cni/bin', { mode: 0o750 });
    expect((await fs.stat(join(root, 'opt/cni/bin'))).mode & 0o7777).to.equal(0o750);
    // Someone else puts a file into a directory flexnode created: that directory must stay.
    await fs.writeFile(join(root, 'opt/cni/foreign'), 'not ours');

    await host.changes.revert();
    expect(await exists(join(root, 'etc/cni'))).to.equal(false);
    expect(await exists(join(root, 'etc'))).to.equal(true); // was there before
    expect(await exists(join(root, 'opt/cni/bin'))).to.equal(false);
    expect(await fs.readFile(join(root, 'opt/cni/foreign'), 'utf8')).to.equal('not ours');
    // Revert twice: nothing more happens, nothing fails.
    await host.changes.revert();
    expect(await exists(join(root, 'opt/cni/foreign'))).to.equal(true);
  });

  it('remove journals the old content; revert brings back files, symlinks and directories', async () => {
    const { root, real } = await makeHost();
    await fs.mkdir(join(root, 'etc/empty'), { recursive: true, mode: 0o700 });
    await fs.writeFile(join(root, 'etc/fstab'), '/swap none swap sw 0 0\n', { mode: 0o600 });
    await fs.symlink('/run/systemd/resolve/resolv.conf', join(root, 'etc/resolv.conf'));
    const host = real.forStep('os.swap', 'p');
    expect(await host.files.remove('/etc/fstab')).to.equal(true);
    expect(await host.files.remove('/etc/resolv.conf')).to.equal(true);
    expect(await host.files.remove('/etc/empty')).to.equal(true);
    expect(await host.files.remove('/etc/absent')).to.equal(false);
    expect(await exists(join(root, 'etc/fstab'))).to.equal(false);
    // Replace the symlink with a file, as a resolv.conf step would.
    await host.files.write('/etc/resolv.conf', 'nameserver 10.0.0.10\n');

    await host.changes.revert();
    expect(await fs.readFile(join(root, 'etc/fstab'), 'utf8')).to.equal('/swap none swap sw 0 0\n');
    expect((await fs.stat(join(root, 'etc/fstab'))).mode & 0o7777).to.equal(0o600);
    expect(await fs.readlink(join(root, 'etc/resolv.conf'))).to.equal('/run/systemd/resolve/resolv.conf');
    expect((await fs.stat(join(root, 'etc/empty'))).mode & 0o7777).to.equal(0o700);
  });

  it('refuses to remove a non-empty directory', async () => {
    const { root, real } = await makeHost();
    await fs.mkdir(join(root, 'var/lib/kubelet/pods'), { recursive: true });
    let thrown: unknown;
    await real
      .forStep('s', 'p')
      .files.remove('/var/lib/kubelet')
      .catch((e) => (thrown = e));
    expect(thrown).to.include({ code: 'DIR_NOT_EMPTY' });
  });

  it('a secret gets mode 0600 and its content never reaches the log', async () => {
    const { root, real, log } = await makeHost();
    const host = real.forStep('kubelet.kubeconfig', 'p');
    await host.files.write('/var/lib/kubelet/kubeconfig', 'token: s3cr3t-value', { secret: true });
    expect((await fs.stat(join(root, 'var/lib/kubelet/kubeconfig'))).mode & 0o7777).to.equal(0o600);
    expect(log.text()).not.to.contain('s3cr3t-value');
  });

  it('copyFrom streams a large file into place with its mode, and is a no-op when identical', async () => {
    const { root, real } = await makeHost();
    const staging = await makeTmp('flexnode-src-');
    const src = join(staging, 'containerd');
    const big = Buffer.alloc(8 * 1024 * 1024 + 123, 7);
    await fs.writeFile(src, big, { mode: 0o755 });
    await fs.chmod(src, 0o755);
    const host = real.forStep('containerd.binaries', 'p');
    expect(await host.files.copyFrom(src, '/usr/local/bin/containerd')).to.equal(true);
    const dest = join(root, 'usr/local/bin/containerd');
    expect((await fs.readFile(dest)).equals(big)).to.equal(true);
    expect((await fs.stat(dest)).mode & 0o7777).to.equal(0o755);
    expect(await host.files.copyFrom(src, '/usr/local/bin/containerd')).to.equal(false);
    expect(await host.files.sha256('/usr/local/bin/containerd')).to.equal(sha256(big));
    expect(await host.files.stat('/usr/local/bin/containerd')).to.deep.include({ type: 'file', mode: 0o755, size: big.length });
    expect(await host.files.list('/usr/local/bin')).to.deep.equal(['containerd']);
    expect(await host.files.list('/nope')).to.deep.equal([]);
    expect(await host.files.read('/nope')).to.equal(undefined);
    expect(await host.files.readText('/nope/x')).to.equal(undefined);
  });

  it('refuses paths that escape the root, by ".." or through a symlinked parent', async () => {
    const { root, real } = await makeHost();
    const outside = await makeTmp('flexnode-outside-');
    await fs.symlink(outside, join(root, 'etc'));
    const host = real.forStep('s', 'p');
    let thrown: unknown;
    await host.files.write('/../../etc/passwd', 'x').catch((e) => (thrown = e));
    expect(thrown).to.include({ code: 'PATH_ESCAPES_ROOT' });
    thrown = undefined;
    await host.files.write('/etc/x.conf', 'x').catch((e) => (thrown = e));
    expect(thrown).to.include({ code: 'PATH_ESCAPES_ROOT' });
    expect(await fs.readdir(outside)).to.deep.equal([]);
  });

  it('a dry run refuses what the run would: a write or copy through a symlinked parent, a mkdir over a symlink', async () => {
    const { root, real } = await makeHost({ dryRun: true });
    const outside = await makeTmp('flexnode-outside-');
    await fs.symlink(outside, join(root, 'etc'));
    await fs.mkdir(join(root, 'opt'));
    await fs.symlink(outside, join(root, 'opt/cni'));
    const host = real.forStep('s', 'p');
    const refusal = (p: Promise<unknown>) =>
      p.then(
        () => 'planned',
        (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`,
      );
    expect(await refusal(host.files.write('/etc/x.conf', 'x'))).to.match(/^PATH_ESCAPES_ROOT: \/etc\/x.conf: \/etc resolves to/);
    expect(await refusal(host.files.copyFrom('/nonexistent-placeholder', '/etc/bin/tool'))).to.match(/^PATH_ESCAPES_ROOT/);
    expect(await refusal(host.files.mkdir('/opt/cni'))).to.equal(`NOT_A_DIRECTORY: cannot create directory /opt/cni: it is a symlink (to ${outside})`);
    expect(await refusal(host.files.write('/var/ok.conf', 'x'))).to.equal('planned');
    expect(await fs.readdir(outside)).to.deep.equal([]);
  });
});

async function exists(path: string): Promise<boolean> {
  return fs.lstat(path).then(
    () => true,
    () => false,
  );
}
