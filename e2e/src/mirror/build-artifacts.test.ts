// Proves the artifacts have the upstream layout, are byte-reproducible and are served by the product's path convention.
import { expect } from 'chai';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildArtifacts, debianArch, type ArtifactManifest } from './build-artifacts.js';
import { hasCommand, run } from './run.js';

describe('mirror: build-artifacts (from Debian binaries, upstream layout)', function () {
  this.timeout(180_000);
  let manifest: ArtifactManifest;
  let scratch: string;

  before(async function () {
    for (const cmd of ['dpkg-query', 'tar', 'gzip', 'containerd', 'runc']) {
      if (!(await hasCommand(cmd))) {
        console.log(`SKIP: ${cmd} not found (run .ci/setup-host.sh)`);
        this.skip();
      }
    }
    scratch = await mkdtemp(join(tmpdir(), 'artifacts-'));
    manifest = await buildArtifacts({ cacheDir: join(scratch, 'a') });
  });
  after(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('names files and mirror paths like upstream releases', () => {
    const arch = debianArch();
    const c = manifest.get('containerd');
    const r = manifest.get('runc');
    const n = manifest.get('cni-plugins');
    expect(c.version).to.match(/^\d+\.\d+\.\d+$/);
    expect(c.mirrorPath).to.equal(`containerd/v${c.version}/containerd-${c.version}-linux-${arch}.tar.gz`);
    expect(r.mirrorPath).to.equal(`runc/v${r.version}/runc.${arch}`);
    expect(n.mirrorPath).to.equal(`cni-plugins/v${n.version}/cni-plugins-linux-${arch}-v${n.version}.tgz`);
    for (const a of manifest.artifacts) expect(a.sha256).to.match(/^[0-9a-f]{64}$/);
  });

  it('containerd tarball holds bin/containerd, bin/containerd-shim-runc-v2, bin/ctr with fixed owner and mtime', async () => {
    const { stdout } = await run(['tar', '--numeric-owner', '--full-time', '-tvzf', manifest.get('containerd').file]);
    const names = stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/).pop());
    expect(names).to.include.members(['bin/containerd', 'bin/containerd-shim-runc-v2', 'bin/ctr']);
    for (const line of stdout.trim().split('\n')) {
      expect(line).to.match(/ 0\/0 /);
      expect(line).to.include('1970-01-01 00:00:00');
    }
    expect(stdout).to.match(/^-rwxr-xr-x .* bin\/ctr$/m);
  });

  it('cni tarball is flat (./bridge, ./host-local, ./loopback, ./portmap)', async () => {
    const { stdout } = await run(['tar', '-tzf', manifest.get('cni-plugins').file]);
    expect(stdout.trim().split('\n')).to.include.members(['./bridge', './host-local', './loopback', './portmap']);
  });

  it('runc is a plain executable that runs', async () => {
    const { stdout } = await run([manifest.get('runc').file, '--version']);
    expect(stdout).to.include(manifest.get('runc').version);
  });

  it('is byte-reproducible: a second build elsewhere has the same sha256', async () => {
    const again = await buildArtifacts({ cacheDir: join(scratch, 'b') });
    for (const a of manifest.artifacts) expect(again.lookup(a.mirrorPath)?.sha256, a.name).to.equal(a.sha256);
  });

  it('reuses the cache instead of rebuilding', async () => {
    const { mtimeMs } = await stat(manifest.get('containerd').file);
    const again = await buildArtifacts({ cacheDir: join(scratch, 'a') });
    const after = await stat(again.get('containerd').file);
    expect(after.mtimeMs).to.equal(mtimeMs);
  });
});
