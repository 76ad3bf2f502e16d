import { promises as fs } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Artifact } from '@flexnode/sdk';
import { ChecksumError, DownloadError } from '@flexnode/sdk';
import { expect } from 'chai';
import { bytesReadDuring, makeHost, sha256 } from './support.test.helpers.js';

const BODY = Buffer.from('#!/bin/sh\necho runc\n'.repeat(5000));

/** A mirror on 127.0.0.1 with fault modes chosen by path. */
async function startMirror() {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    if (path.endsWith('/ok.bin')) return res.end(BODY);
    if (path.endsWith('/corrupt.bin')) return res.end(Buffer.concat([BODY.subarray(0, -1), Buffer.from('X')]));
    if (path.endsWith('/flaky.bin')) {
      if (n === 1) {
        res.statusCode = 500;
        return res.end('oops');
      }
      return res.end(BODY);
    }
    if (path.endsWith('/stall.bin')) {
      res.writeHead(200, { 'content-length': String(BODY.length) });
      res.write(BODY.subarray(0, 100)); // then nothing, ever
      return;
    }
    if (path.endsWith('/truncated.bin')) {
      res.writeHead(200, { 'content-length': String(BODY.length) });
      res.write(BODY.subarray(0, 1000), () => res.destroy());
      return;
    }
    if (path.endsWith('/moved.bin')) {
      res.writeHead(302, { location: path.replace('/moved.bin', '/ok.bin') });
      return res.end();
    }
    if (path.endsWith('/forbidden.bin')) {
      res.statusCode = 403;
      return res.end();
    }
    res.statusCode = 404;
    res.end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    hits,
    count: (suffix: string) => [...hits].filter(([p]) => p.endsWith(suffix)).reduce((s, [, n]) => s + n, 0),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const artifact = (file: string, sha = sha256(BODY)): Artifact => ({
  name: `runc 1.1.12 (amd64) ${file}`,
  url: `http://upstream.invalid/runc/${file}`,
  mirrorPath: `runc/v1.1.12/${file}`,
  sha256: sha,
});

describe('host/downloads.fetch (loopback mirror)', () => {
  let mirror: Awaited<ReturnType<typeof startMirror>>;
  before(async () => {
    mirror = await startMirror();
  });
  after(async () => {
    await mirror.close();
  });

  async function fixture() {
    const f = await makeHost({ mirror: `${mirror.base}/` });
    return { ...f, host: f.real.forStep('runc.binary', 'p'), cache: join(f.root, 'var/lib/flexnode/cache') };
  }

  it('downloads from the mirror, verifies, caches by sha256; a cache hit makes no request', async () => {
    const { host, cache, real } = await fixture();
    const path = await host.downloads.fetch(artifact('ok.bin'));
    expect(path).to.equal(join(cache, sha256(BODY)));
    expect((await fs.readFile(path)).equals(BODY)).to.equal(true);
    expect(mirror.hits.get('/runc/v1.1.12/ok.bin')).to.equal(1);
    expect(await host.downloads.fetch(artifact('ok.bin'))).to.equal(path);
    expect(mirror.hits.get('/runc/v1.1.12/ok.bin')).to.equal(1);
    expect(await fs.readdir(cache)).to.deep.equal([sha256(BODY)]);
    await real.dispose();
  });

  it('hashes while it downloads: the cached file and a copy of it are known without reading them again', async () => {
    const { host, real } = await fixture();
    const path = await host.downloads.fetch(artifact('ok.bin'));
    const cachedTarget = `/var/lib/flexnode/cache/${sha256(BODY)}`;
    let hash: string | undefined;
    expect(await bytesReadDuring(async () => (hash = await host.files.sha256(cachedTarget)))).to.be.below(1024);
    expect(hash).to.equal(sha256(BODY));
    await host.files.copyFrom(path, '/usr/bin/runc', { mode: 0o755 });
    expect(await bytesReadDuring(async () => (hash = await host.files.sha256('/usr/bin/runc')))).to.be.below(1024);
    expect(hash).to.equal(sha256(BODY));
    await real.dispose();
  });

  it('follows a redirect (release downloads redirect to a CDN)', async () => {
    const { host, real } = await fixture();
    const path = await host.downloads.fetch({ ...artifact('moved.bin'), sha256: sha256(BODY) });
    expect((await fs.readFile(path)).equals(BODY)).to.equal(true);
    expect(mirror.count('/moved.bin')).to.equal(1);
    await real.dispose();
  });

  it('concurrent fetches of one artifact share one download', async () => {
    const { host, real } = await fixture();
    const before = mirror.count('/ok.bin');
    const [a, b] = await Promise.all([host.downloads.fetch(artifact('ok.bin')), host.downloads.fetch(artifact('ok.bin'))]);
    expect(a).to.equal(b);
    expect(mirror.count('/ok.bin') - before).to.equal(1);
    await real.dispose();
  });

  it('a checksum mismatch leaves nothing in cache or staging and names the artifact and both checksums', async () => {
    const { host, cache, root, real } = await fixture();
    let thrown: unknown;
    await host.downloads.fetch(artifact('corrupt.bin')).catch((e) => (thrown = e));
    expect(thrown).to.be.instanceOf(ChecksumError);
    const message = (thrown as Error).message;
    const actual = sha256(Buffer.concat([BODY.subarray(0, -1), Buffer.from('X')]));
    expect(message).to.contain('runc 1.1.12 (amd64) corrupt.bin').and.contain(sha256(BODY)).and.contain(actual);
    expect(mirror.count('/corrupt.bin')).to.equal(1); // a checksum mismatch is not retried
    expect(await fs.readdir(cache)).to.deep.equal([]);
    expect(await fs.readdir(join(root, 'var/lib/flexnode/staging')).catch(() => [])).to.deep.equal([]);
    await real.dispose();
  });

  it('404 is a DownloadError naming artifact, URL and status, without retries', async () => {
    const { host, real } = await fixture();
    let thrown: unknown;
    await host.downloads.fetch(artifact('missing.bin')).catch((e) => (thrown = e));
    expect(thrown).to.be.instanceOf(DownloadError);
    expect((thrown as Error).message)
      .to.contain('missing.bin')
      .and.contain(`${mirror.base}/runc/v1.1.12/missing.bin`)
      .and.contain('HTTP 404');
    expect(mirror.count('/missing.bin')).to.equal(1);
    thrown = undefined;
    await host.downloads.fetch(artifact('forbidden.bin')).catch((e) => (thrown = e));
    expect((thrown as Error).message).to.contain('HTTP 403');
    expect(mirror.count('/forbidden.bin')).to.equal(1);
    await real.dispose();
  });

  it('a proxy setting that would dial another host fails at once, without retries and without the password', async () => {
    // http://user:12/s3cret@proxy:3128 parses as host "user", port 12: a password with an unencoded '/'.
    const proxy = 'http://user:12/s3cret@127.0.0.1:9';
    const f = await makeHost({ mirror: `${mirror.base}/`, proxy: { http: proxy, https: proxy }, download: { idleTimeoutMs: 400, retries: 3, backoffMs: 200 } });
    const before = mirror.count('/ok.bin');
    const thrown = await f.real
      .forStep('runc.binary', 'p')
      .downloads.fetch(artifact('ok.bin'))
      .catch((e: Error) => e);
    expect(thrown).to.be.instanceOf(DownloadError);
    expect((thrown as DownloadError).message)
      .to.match(/after its port.*percent-encoded/)
      .and.not.include('s3cret')
      .and.not.include('gave up after');
    expect(f.log.text()).not.to.include('retrying').and.not.include('s3cret');
    expect(mirror.count('/ok.bin')).to.equal(before);
    await f.real.dispose();
  });

  it('retries a 500 and then succeeds', async () => {
    const { host, log, real } = await fixture();
    const path = await host.downloads.fetch(artifact('flaky.bin'));
    expect((await fs.readFile(path)).equals(BODY)).to.equal(true);
    expect(mirror.count('/flaky.bin')).to.equal(2);
    expect(log.text()).to.contain('HTTP 500');
    await real.dispose();
  });

  it('a stalled server hits the idle timeout, is retried 3 times, then fails clearly', async () => {
    const { host, cache, real } = await fixture();
    let thrown: unknown;
    await host.downloads.fetch(artifact('stall.bin')).catch((e) => (thrown = e));
    expect(thrown).to.be.instanceOf(DownloadError);
    expect((thrown as Error).message)
      .to.contain('idle timeout')
      .and.contain('4 attempts');
    expect(mirror.count('/stall.bin')).to.equal(4);
    expect(await fs.readdir(cache)).to.deep.equal([]);
    await real.dispose();
  });

  it('a truncated body is a clear DownloadError, not a checksum error', async () => {
    const { host, cache, real } = await fixture();
    let thrown: unknown;
    await host.downloads.fetch(artifact('truncated.bin')).catch((e) => (thrown = e));
    expect(thrown).to.be.instanceOf(DownloadError);
    expect((thrown as Error).message).to.match(/(truncated|closed).*of \d+ bytes|of \d+ bytes/);
    expect(await fs.readdir(cache)).to.deep.equal([]);
    await real.dispose();
  });

  it('without a mirror the upstream URL is used; a connection refused is retried then reported', async () => {
    // A port nobody listens on: bind one, then close it.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const f = await makeHost();
    const host = f.real.forStep('s', 'p');
    let thrown: unknown;
    await host.downloads.fetch({ ...artifact('ok.bin'), url: `http://127.0.0.1:${port}/ok.bin` }).catch((e) => (thrown = e));
    expect((thrown as Error).message)
      .to.contain(`http://127.0.0.1:${port}/ok.bin`)
      .and.contain('connection refused')
      .and.contain('4 attempts');
    await f.real.dispose();
  });

  it('goes through the configured proxy, and NO_PROXY bypasses it', async () => {
    // A "proxy" that answers every request itself: hits on it prove the request went through it.
    const proxyHits: string[] = [];
    const proxy = createServer((req, res) => {
      proxyHits.push(req.url ?? '');
      res.end(BODY);
    });
    // A tunnel (CONNECT, for https URLs) goes to the loopback mirror, whatever host was asked.
    proxy.on('connect', (req, client: Socket) => {
      proxyHits.push(req.url ?? '');
      const port = Number(new URL(mirror.base).port);
      const upstream = connect(port, '127.0.0.1', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const via = await makeHost({ proxy: { http: proxyUrl } });
      await via.real.forStep('s', 'p').downloads.fetch({ ...artifact('ok.bin'), url: 'http://mirror.example.test/runc/ok.bin' });
      expect(proxyHits).to.have.length(1);
      expect(proxyHits[0]).to.contain('mirror.example.test');
      await via.real.dispose();

      const bypass = await makeHost({ mirror: mirror.base, proxy: { http: proxyUrl, noProxy: '127.0.0.1,localhost' } });
      const before = mirror.count('/ok.bin');
      await bypass.real.forStep('s', 'p').downloads.fetch(artifact('ok.bin'));
      expect(mirror.count('/ok.bin')).to.equal(before + 1);
      expect(proxyHits).to.have.length(1);
      await bypass.real.dispose();
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('in a dry run nothing is fetched: the plan gets the download and a placeholder path is returned', async () => {
    const f = await makeHost({ dryRun: true, mirror: mirror.base });
    const before = mirror.count('/ok.bin');
    const path = await f.real.forStep('runc.binary', 'p').downloads.fetch(artifact('never.bin', 'a'.repeat(64)));
    expect(mirror.count('/never.bin')).to.equal(0);
    expect(mirror.count('/ok.bin')).to.equal(before);
    expect(
      await fs.access(path).then(
        () => true,
        () => false,
      ),
    ).to.equal(false);
    expect(f.plan).to.deep.equal([
      { step: 'runc.binary', action: 'download', target: `${mirror.base}/runc/v1.1.12/never.bin`, detail: '(sha256 aaaaaaaaaaaa…)' },
    ]);
  });
});

describe('host/downloads.checksum (published checksum files)', () => {
  const digest = sha256(BODY);
  let server: Server;
  let base = '';
  const hits: string[] = [];
  before(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      const files: Record<string, string> = {
        '/kubernetes/v1.35.2/kubelet-linux-amd64.sha256': digest, // dl.k8s.io: the bare digest, no newline
        '/kubernetes/v1.35.2/kubectl-linux-amd64.sha256': `${'1'.repeat(64)}  kubectl-linux-amd64\n${digest.toUpperCase()}  kubelet-linux-amd64\n`,
        '/kubernetes/v1.35.2/kubeadm-linux-amd64.sha256': '<html>not found</html>\n',
      };
      const body = files[req.url ?? ''];
      if (body === undefined) res.statusCode = 404;
      res.end(body ?? 'not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const file = (bin: string) => ({
    name: `${bin} 1.35.2 (amd64)`,
    url: `https://dl.k8s.io/v1.35.2/bin/linux/amd64/${bin}.sha256`,
    mirrorPath: `kubernetes/v1.35.2/${bin}-linux-amd64.sha256`,
  });

  it('reads the digest from the mirror path beside the file: bare, or the sha256sum line naming the file', async () => {
    const f = await makeHost({ mirror: base, dryRun: true });
    const host = f.real.forStep('kube.binaries', 'p');
    expect(await host.downloads.checksum(file('kubelet'))).to.equal(digest);
    expect(hits).to.include('/kubernetes/v1.35.2/kubelet-linux-amd64.sha256'); // fetched in a dry run too: it only reads
    // sha256sum output with several lines: the one naming the file (kubectl), not the first.
    const named = { ...file('kubectl'), url: 'https://example.test/v1.35.2/kubelet-linux-amd64.sha256' };
    expect(await host.downloads.checksum(named)).to.equal(digest);
    await f.real.dispose();
  });

  it('a file that holds no sha256, or none at all, is a DownloadError naming it; plain http is refused without a mirror', async () => {
    const f = await makeHost({ mirror: base, download: { retries: 0 } });
    const host = f.real.forStep('kube.binaries', 'p');
    const bad = await host.downloads.checksum(file('kubeadm')).catch((e: DownloadError) => e);
    expect(bad).to.be.instanceOf(DownloadError);
    expect((bad as Error).message).to.match(/the published sha256 of kubeadm 1\.35\.2 \(amd64\).*holds no sha256/);
    const gone = await host.downloads.checksum(file('kube-proxy')).catch((e: DownloadError) => e);
    expect((gone as Error).message).to.match(/kube-proxy-linux-amd64\.sha256 failed: HTTP 404/);
    await f.real.dispose();
    const direct = await makeHost();
    const clear = await direct.real
      .forStep('s', 'p')
      .downloads.checksum({ ...file('kubelet'), url: `${base}/kubernetes/v1.35.2/kubelet-linux-amd64.sha256` })
      .catch((e: Error) => e);
    expect((clear as Error).message).to.match(/only fetched over https/);
    await direct.real.dispose();
  });
});
