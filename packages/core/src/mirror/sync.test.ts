import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MirrorArtifact } from '@flexnode/sdk';
import { expect } from 'chai';
import { MANIFEST, type Manifest } from './manifest.js';
import type { PlannedArtifact } from './plan.js';
import { syncMirror } from './sync.js';
import { withoutCredentials } from './fetch.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const RUNC = Buffer.from('runc binary\n'.repeat(20_000));
const KUBELET = Buffer.from('kubelet binary\n'.repeat(30_000));
const KUBECTL = Buffer.from('kubectl binary\n'.repeat(10_000));

/** An HTTP server over a map of paths (the "upstream" hosts, or another mirror), counting GETs. */
async function serve(files: Map<string, Buffer>) {
  const hits: string[] = [];
  const auth: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    hits.push(path);
    auth.push(req.headers.authorization ?? '');
    const body = files.get(path);
    if (!body) return res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, files, hits, auth, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

/** Serves a directory tree (a synced mirror) read-only, like any static web server. */
async function serveDir(dir: string) {
  const files = new Map<string, Buffer>();
  const walk = async (d: string, prefix: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name), `${prefix}/${e.name}`);
      else files.set(`${prefix}/${e.name}`, await fs.readFile(join(d, e.name)));
    }
  };
  await walk(dir, '');
  return serve(files);
}

const planned = (artifact: MirrorArtifact): PlannedArtifact => ({ artifact, arch: 'amd64', step: 'test.step', plugin: '@test/plugin' });

describe('mirror sync (a real HTTP server on loopback, a real directory)', function () {
  this.timeout(30_000);
  let upstream: Awaited<ReturnType<typeof serve>>;
  let work: string;
  let artifacts: PlannedArtifact[];
  const umask = process.umask();

  beforeEach(async () => {
    upstream = await serve(
      new Map([
        ['/releases/runc.amd64', RUNC],
        ['/dl/v1.30.4/kubelet', KUBELET],
        ['/dl/v1.30.4/kubelet.sha256', Buffer.from(`${sha(KUBELET)}\n`)],
        ['/dl/v1.30.4/kubectl', KUBECTL],
        ['/dl/v1.30.4/SHA256SUMS', Buffer.from(`${sha('other')}  kubeadm\n${sha(KUBECTL)}  kubectl\n`)],
      ]),
    );
    work = await fs.mkdtemp(join(tmpdir(), 'flexnode-mirror-'));
    artifacts = [
      planned({ name: 'runc 1.1.14 (amd64)', url: `${upstream.base}/releases/runc.amd64`, mirrorPath: 'runc/v1.1.14/runc.amd64', sha256: sha(RUNC) }),
      planned({
        name: 'kubelet 1.30.4 (amd64)',
        url: `${upstream.base}/dl/v1.30.4/kubelet`,
        mirrorPath: 'kubernetes/v1.30.4/kubelet-linux-amd64',
        sha256Url: `${upstream.base}/dl/v1.30.4/kubelet.sha256`,
        sha256MirrorPath: 'kubernetes/v1.30.4/kubelet-linux-amd64.sha256',
      }),
      planned({
        name: 'kubectl 1.30.4 (amd64)',
        url: `${upstream.base}/dl/v1.30.4/kubectl`,
        mirrorPath: 'kubernetes/v1.30.4/kubectl-linux-amd64',
        sha256Url: `${upstream.base}/dl/v1.30.4/SHA256SUMS`,
      }),
    ];
  });
  afterEach(async () => {
    process.umask(umask);
    await upstream.close();
    await fs.rm(work, { recursive: true, force: true });
  });

  const mode = async (p: string) => ((await fs.stat(p)).mode & 0o7777).toString(8);

  it('downloads every artifact verified, 0644 files and 0755 directories under any umask, with a manifest', async () => {
    for (const mask of [0o000, 0o077]) {
      process.umask(mask);
      const to = join(work, `m-${mask.toString(8)}`);
      const report = await syncMirror({ to, planned: artifacts });
      expect(report.failures).to.deep.equal([]);
      expect(await fs.readFile(join(to, 'runc/v1.1.14/runc.amd64'))).to.deep.equal(RUNC);
      expect(await fs.readFile(join(to, 'kubernetes/v1.30.4/kubelet-linux-amd64'))).to.deep.equal(KUBELET);
      expect(await fs.readFile(join(to, 'kubernetes/v1.30.4/kubectl-linux-amd64'))).to.deep.equal(KUBECTL);
      // The published checksum is kept where nodes that verify against it look.
      expect(await fs.readFile(join(to, 'kubernetes/v1.30.4/kubelet-linux-amd64.sha256'), 'utf8')).to.equal(`${sha(KUBELET)}\n`);
      for (const f of ['runc/v1.1.14/runc.amd64', 'kubernetes/v1.30.4/kubectl-linux-amd64', MANIFEST]) expect(await mode(join(to, f)), f).to.equal('644');
      for (const d of ['', 'runc', 'runc/v1.1.14', 'kubernetes/v1.30.4']) expect(await mode(join(to, d)), d || 'top').to.equal('755');
      const manifest = JSON.parse(await fs.readFile(join(to, MANIFEST), 'utf8')) as Manifest;
      const runc = manifest.files.find((f) => f.file === 'runc/v1.1.14/runc.amd64');
      expect(runc).to.include({ size: RUNC.length, sha256: sha(RUNC), source: `${upstream.base}/releases/runc.amd64`, verifiedWith: 'pinned' });
      expect(manifest.files.find((f) => f.file === 'kubernetes/v1.30.4/kubectl-linux-amd64')).to.include({
        sha256: sha(KUBECTL),
        verifiedWith: `${upstream.base}/dl/v1.30.4/SHA256SUMS`,
      });
      expect(manifest.files.map((f) => f.file)).to.have.length(4);
      expect(report.files.map((f) => f.status)).to.deep.equal(['downloaded', 'downloaded', 'downloaded', 'downloaded']);
    }
  });

  it('a re-run downloads nothing; a wrong or missing file is fetched again, alone; a world-writable directory is set back', async () => {
    const to = join(work, 'm');
    await syncMirror({ to, planned: artifacts });
    upstream.hits.length = 0;
    const again = await syncMirror({ to, planned: artifacts });
    expect(upstream.hits, 'requests on a converged re-run').to.deep.equal([]);
    expect(again.files.every((f) => f.status === 'present')).to.equal(true);

    await fs.writeFile(join(to, 'runc/v1.1.14/runc.amd64'), 'tampered');
    await fs.rm(join(to, 'kubernetes/v1.30.4/kubectl-linux-amd64'));
    await fs.chmod(join(to, 'runc/v1.1.14'), 0o777);
    const fixed = await syncMirror({ to, planned: artifacts });
    expect(upstream.hits.sort()).to.deep.equal(['/dl/v1.30.4/kubectl', '/releases/runc.amd64'].sort());
    expect(Object.fromEntries(fixed.files.map((f) => [f.file, f.status]))).to.deep.include({
      'runc/v1.1.14/runc.amd64': 'replaced',
      'kubernetes/v1.30.4/kubectl-linux-amd64': 'downloaded',
      'kubernetes/v1.30.4/kubelet-linux-amd64': 'present',
    });
    expect(await fs.readFile(join(to, 'runc/v1.1.14/runc.amd64'))).to.deep.equal(RUNC);
    expect(await mode(join(to, 'runc/v1.1.14'))).to.equal('755');
  });

  it('a corrupted download, a checksum that disagrees with the pin, and a 404 fail alone and leave no file', async () => {
    upstream.files.set('/releases/runc.amd64', Buffer.concat([RUNC.subarray(1), Buffer.from('x')]));
    upstream.files.set('/dl/v1.30.4/kubelet.sha256', Buffer.from(`${sha('something else')}  kubelet\n`));
    const pinnedKubelet = planned({ ...artifacts[1]!.artifact, sha256: sha(KUBELET) });
    const missing = planned({ name: 'gone', url: `${upstream.base}/nope`, mirrorPath: 'gone/v1/gone', sha256: sha('x') });
    const to = join(work, 'm');
    const report = await syncMirror({ to, planned: [artifacts[0]!, pinnedKubelet, artifacts[2]!, missing], fetch: { retries: 0 } });
    const byFile = Object.fromEntries(report.failures.map((f) => [f.file, f]));
    expect(byFile['runc/v1.1.14/runc.amd64']?.code).to.equal('CHECKSUM_MISMATCH');
    expect(byFile['kubernetes/v1.30.4/kubelet-linux-amd64']?.message).to.match(/published checksum.*expected [0-9a-f]{64}/);
    expect(byFile['gone/v1/gone']?.message).to.contain('HTTP 404');
    expect(report.files.map((f) => f.file)).to.deep.equal(['kubernetes/v1.30.4/kubectl-linux-amd64']);
    const left = await fs.readdir(join(to, 'runc/v1.1.14'));
    expect(left, 'no partial or unverified file').to.deep.equal([]);
    const manifest = JSON.parse(await fs.readFile(join(to, MANIFEST), 'utf8')) as Manifest;
    expect(manifest.files.map((f) => f.file)).to.deep.equal(['kubernetes/v1.30.4/kubectl-linux-amd64']);
  });

  it('a sync where every download fails writes no manifest and takes away the directories it made, nothing else', async () => {
    await upstream.close();
    upstream = await serve(new Map()); // every GET a 404
    const fresh = join(work, 'new/mirror');
    const report = await syncMirror({ to: fresh, planned: artifacts, fetch: { retries: 0 } });
    expect(report.failures.map((f) => f.file).sort()).to.deep.equal(artifacts.map((a) => a.artifact.mirrorPath).sort());
    expect(report.manifest).to.equal(undefined);
    expect(await fs.readdir(work), 'the directory it made, with its parent, is gone').to.deep.equal([]);

    // An existing directory: its own contents stay, the component directories this sync made go.
    const existing = join(work, 'existing');
    await fs.mkdir(join(existing, 'runc/keep'), { recursive: true });
    await fs.writeFile(join(existing, 'README'), 'ours\n');
    const again = await syncMirror({ to: existing, planned: artifacts, fetch: { retries: 0 } });
    expect(again.manifest).to.equal(undefined);
    expect((await fs.readdir(existing)).sort()).to.deep.equal(['README', 'runc']);
    expect(await fs.readdir(join(existing, 'runc'))).to.deep.equal(['keep']);
  });

  it('--from copies another mirror: same bytes, sources and checksum files from that mirror, nothing from upstream', async () => {
    const first = join(work, 'first');
    await syncMirror({ to: first, planned: artifacts });
    const other = await serveDir(first);
    try {
      upstream.hits.length = 0;
      const second = join(work, 'second');
      // A mirror behind basic auth: the credentials are used, never recorded.
      const report = await syncMirror({ to: second, planned: artifacts, from: `${other.base.replace('http://', 'http://fleet:pa55word@')}/` });
      expect(other.auth.every((a) => a === `Basic ${Buffer.from('fleet:pa55word').toString('base64')}`)).to.equal(true);
      expect(JSON.stringify(report) + (await fs.readFile(join(second, MANIFEST), 'utf8'))).to.not.contain('pa55word');
      expect(report.failures).to.deep.equal([]);
      expect(upstream.hits, 'upstream untouched').to.deep.equal([]);
      for (const f of ['runc/v1.1.14/runc.amd64', 'kubernetes/v1.30.4/kubelet-linux-amd64', 'kubernetes/v1.30.4/kubelet-linux-amd64.sha256']) {
        expect(await fs.readFile(join(second, f)), f).to.deep.equal(await fs.readFile(join(first, f)));
      }
      expect(other.hits).to.include('/kubernetes/v1.30.4/kubelet-linux-amd64.sha256');
      expect(report.files.find((f) => f.file === 'runc/v1.1.14/runc.amd64')?.source).to.equal(`${other.base}/runc/v1.1.14/runc.amd64`);
      // kubectl's published checksum has no copy in a mirror: the source mirror's manifest (which verified it) gives it.
      expect(report.files.find((f) => f.file === 'kubernetes/v1.30.4/kubectl-linux-amd64')?.verifiedWith).to.equal(`${other.base}/manifest.json`);
    } finally {
      await other.close();
    }
  });

  it('keeps the manifest entries of an earlier sync whose files are still there (one mirror, several configs)', async () => {
    const to = join(work, 'm');
    await syncMirror({ to, planned: [artifacts[0]!] });
    await syncMirror({ to, planned: [artifacts[2]!] });
    const manifest = JSON.parse(await fs.readFile(join(to, MANIFEST), 'utf8')) as Manifest;
    expect(manifest.files.map((f) => f.file)).to.deep.equal(['kubernetes/v1.30.4/kubectl-linux-amd64', 'runc/v1.1.14/runc.amd64']);
    await fs.rm(join(to, 'runc/v1.1.14/runc.amd64'));
    await syncMirror({ to, planned: [artifacts[2]!] });
    const after = JSON.parse(await fs.readFile(join(to, MANIFEST), 'utf8')) as Manifest;
    expect(after.files.map((f) => f.file)).to.deep.equal(['kubernetes/v1.30.4/kubectl-linux-amd64']);
  });

  it('shows a source URL without its credentials, also where a password does not parse as one', () => {
    expect(withoutCredentials('https://reader:pw@mirror.internal/x')).to.equal('https://mirror.internal/x');
    expect(withoutCredentials('https://mirror.internal/x')).to.equal('https://mirror.internal/x');
    // host "reader", port 2024, a fragment: the password would be shown as the fragment
    expect(withoutCredentials('https://reader:2024#pw@mirror.internal/x')).to.equal('https://mirror.internal/x');
    expect(withoutCredentials('https://reader:pa/ss@mirror.internal/x')).to.equal('https://mirror.internal/x');
  });

  it('refuses to write through a symlink planted in the mirror', async () => {
    const to = join(work, 'm');
    const outside = join(work, 'outside');
    await fs.mkdir(join(to), { recursive: true });
    await fs.mkdir(outside);
    await fs.symlink(outside, join(to, 'runc'));
    const report = await syncMirror({ to, planned: [artifacts[0]!] });
    expect(report.failures[0]?.message).to.match(/is not a directory/);
    expect(await fs.readdir(outside)).to.deep.equal([]);
  });
});
