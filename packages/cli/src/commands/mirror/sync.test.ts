// `flexnode mirror sync` as a user runs it: the bundled plugins' artifacts hooks decide what is mirrored, a
// local HTTP server plays the source mirror (--from), and bad input is refused with exit 2 and nothing written.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../test/run-cli.js';
import { treeSnapshot } from '../../test/tree.js';

const ARCHES = ['amd64', 'arm64'] as const;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const body = (path: string) => Buffer.from(`bytes of ${path}\n`.repeat(1000));

/** The files a node of this config downloads, at their mirror paths (what the plugins must name). */
function expectedPaths(): string[] {
  const paths: string[] = [];
  for (const a of ARCHES) {
    paths.push(`containerd/v1.7.22/containerd-1.7.22-linux-${a}.tar.gz`, `runc/v1.1.14/runc.${a}`, `cni-plugins/v1.5.1/cni-plugins-linux-${a}-v1.5.1.tgz`);
    // kube-proxy too: with the default service proxy (auto), a node may run its own.
    for (const b of ['kubelet', 'kubectl', 'kubeadm', 'kube-proxy']) paths.push(`kubernetes/v1.31.1/${b}-linux-${a}`);
    paths.push(`azcmagent/v1.48.0/azcmagent_1.48.0_${a}.deb`);
  }
  return paths.sort();
}

/** A config pinning every component to the test bytes (so the checksums are the server's files'). */
function config(files: Map<string, Buffer>, extra: Record<string, unknown> = {}) {
  const pin = (path: (a: string) => string) => Object.fromEntries(ARCHES.map((a) => [a, sha(files.get(`/${path(a)}`)!)]));
  return {
    azure: {
      subscriptionId: '11111111-2222-3333-4444-555555555555',
      tenantId: '66666666-7777-8888-9999-000000000000',
      targetCluster: {
        resourceId: '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c',
        location: 'westus2',
      },
    },
    containerd: { version: '1.7.22', sha256: pin((a) => `containerd/v1.7.22/containerd-1.7.22-linux-${a}.tar.gz`) },
    runc: { version: '1.1.14', sha256: pin((a) => `runc/v1.1.14/runc.${a}`) },
    cni: { version: '1.5.1', sha256: pin((a) => `cni-plugins/v1.5.1/cni-plugins-linux-${a}-v1.5.1.tgz`) },
    kubernetes: {
      version: 'v1.31.1',
      sha256: Object.fromEntries(['kubelet', 'kubectl', 'kubeadm', 'kube-proxy'].map((b) => [b, pin((a) => `kubernetes/v1.31.1/${b}-linux-${a}`)])),
    },
    // The nodes' release is not known to a mirror: the .deb's URL is given (--from serves it here anyway).
    pluginConfig: {
      '@flexnode/plugin-arc': {
        agent: {
          source: 'deb',
          version: '1.48.0',
          url: 'https://packages.example.com/azcmagent_1.48.0.deb',
          sha256: pin((a) => `azcmagent/v1.48.0/azcmagent_1.48.0_${a}.deb`),
        },
      },
    },
    ...extra,
  };
}

describe('flexnode mirror sync (built CLI, a local source mirror)', function () {
  this.timeout(120_000);
  let dir: string;
  let server: Server;
  let base: string;
  const files = new Map(expectedPaths().map((p) => [`/${p}`, body(p)]));
  const hits: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      const b = files.get(req.url ?? '');
      if (!b) return res.writeHead(404).end();
      res.writeHead(200, { 'content-length': String(b.length) }).end(b);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flexnode-mirror-cli-'));
    hits.length = 0;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const writeConfig = async (c: unknown) => {
    const file = join(dir, 'config.json');
    await writeFile(file, JSON.stringify(c), { mode: 0o600 });
    return file;
  };

  it('mirrors what every bundled plugin downloads, for both architectures; a re-run fetches nothing', async () => {
    const file = await writeConfig(config(files));
    const to = join(dir, 'mirror');
    const r = await runCli(['mirror', 'sync', '--to', to, '--config', file, '--arch', 'amd64,arm64', '--from', base, '--json']);
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    const report = JSON.parse(r.stdout);
    expect(report.files.map((f: { file: string }) => f.file)).to.deep.equal(expectedPaths());
    expect(report.plugins).to.have.members(['@flexnode/plugin-containerd', '@flexnode/plugin-cni', '@flexnode/plugin-kube', '@flexnode/plugin-arc']);
    for (const p of expectedPaths()) {
      expect(await readFile(join(to, p)), p).to.deep.equal(files.get(`/${p}`));
      expect((await stat(join(to, p))).mode & 0o777, p).to.equal(0o644);
    }
    const manifest = JSON.parse(await readFile(join(to, 'manifest.json'), 'utf8'));
    const runc = manifest.files.find((f: { file: string }) => f.file === 'runc/v1.1.14/runc.arm64');
    expect(runc).to.include({
      size: files.get('/runc/v1.1.14/runc.arm64')!.length,
      sha256: sha(files.get('/runc/v1.1.14/runc.arm64')!),
      source: `${base}/runc/v1.1.14/runc.arm64`,
    });

    hits.length = 0;
    const again = await runCli(['mirror', 'sync', '--to', to, '--config', file, '--arch', 'amd64,arm64', '--from', base]);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.match(/0 downloaded, 0 replaced, 16 already present/);
    expect(
      hits.filter((h) => h !== '/manifest.json'),
      'artifact requests on a re-run',
    ).to.deep.equal([]);
  });

  it('leaves out what the config does not download (containerd from apt, the agent from its repository, kube-proxy when AKS runs it)', async () => {
    const c = config(files, { containerd: { source: 'apt' } });
    (c.kubernetes as { serviceProxy?: string }).serviceProxy = 'aks';
    (c.pluginConfig['@flexnode/plugin-arc'].agent as { source: string }).source = 'apt';
    const r = await runCli(['mirror', 'sync', '--to', join(dir, 'm'), '--config', await writeConfig(c), '--arch', 'arm64', '--from', base, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout).files.map((f: { file: string }) => f.file)).to.deep.equal([
      'cni-plugins/v1.5.1/cni-plugins-linux-arm64-v1.5.1.tgz',
      'kubernetes/v1.31.1/kubeadm-linux-arm64',
      'kubernetes/v1.31.1/kubectl-linux-arm64',
      'kubernetes/v1.31.1/kubelet-linux-arm64',
    ]);
  });

  it('a corrupted source file fails (exit 1) and is not kept', async () => {
    const file = await writeConfig(config(files));
    const path = '/runc/v1.1.14/runc.amd64';
    const good = files.get(path)!;
    files.set(path, Buffer.from(good.toString().replace('bytes', 'BYTES')));
    try {
      const r = await runCli(['mirror', 'sync', '--to', join(dir, 'm'), '--config', file, '--arch', 'amd64', '--from', base]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/runc\/v1\.1\.14\/runc\.amd64: .*sha256 mismatch/);
      expect((await treeSnapshot(join(dir, 'm')))['/runc/v1.1.14/runc.amd64']).to.equal(undefined);
    } finally {
      files.set(path, good);
    }
  });

  it('refuses bad input with exit 2 before writing anything', async () => {
    const file = await writeConfig(config(files));
    await writeFile(join(dir, 'a-file'), 'x');
    await mkdir(join(dir, 'open'));
    await chmod(join(dir, 'open'), 0o777);
    const noVersion = join(dir, 'no-version.json');
    const c = config(files);
    delete (c.kubernetes as { version?: string }).version;
    await writeFile(noVersion, JSON.stringify(c));
    const cases: [string[], RegExp][] = [
      [['--to', join(dir, 'a-file')], /exists and is not a directory/],
      [['--to', join(dir, 'open')], /writable by everyone/],
      [['--to', join(dir, 'open/mirror')], /on the way to it is writable by everyone/],
      [['--to', join(dir, 'm'), '--arch', 'amd64,s390x'], /unknown architecture "s390x"/],
      [['--to', join(dir, 'm'), '--from', 'ftp://mirror/x'], /--from "ftp:\/\/mirror\/x" is not an http\(s\) base URL/],
      [['--to', join(dir, 'm'), '--from', `${base}/mir?sig=x`], /--from ".*\/mir\?sig=x" is not an http\(s\) base URL without a query or fragment/],
      [['--to', join(dir, 'm'), '--from', 'https://u:Pa#ss@mirror/x'], /--from "https:\/\/\*\*\*@mirror\/x" is not/],
      [['--to', join(dir, 'm'), '--config', noVersion], /kubernetes\.version is not set/],
      [['--to', join(dir, 'm'), '--config', join(dir, 'missing.json')], /does not exist/],
    ];
    const before = await treeSnapshot(dir);
    for (const [args, why] of cases) {
      const r = await runCli(['mirror', 'sync', ...(args.includes('--config') ? [] : ['--config', file]), ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(2);
      expect(r.stderr, args.join(' ')).to.match(why);
    }
    expect(await treeSnapshot(dir)).to.deep.equal(before);
    expect(hits).to.deep.equal([]);
  });
});
