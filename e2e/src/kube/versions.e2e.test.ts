// Every Kubernetes version, verified: kube.binaries on the REAL Host of packages/core over a temp root, against the
// test mirror serving each release as dl.k8s.io lays it out with the `.sha256` published beside every file (no
// checksum in the config), and the node tarball in the upstream layout (kubernetes/node/bin/*) built from the
// kubelet STAND-IN, for upstream's kubernetes.urlTemplate. Nothing here needs Azure: kubernetes.version is set.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { isFlexnodeError, type FlexnodeConfig } from '@flexnode/sdk';
import { testConfig, typicalServices } from '@flexnode/sdk/testing';
import { PodCidr, type NodeIdentity } from '@flexnode/sdk';
import {
  BINARIES_RECORD,
  createBinariesStep,
  createProxyStep,
  KUBE_BINARIES,
  type BinariesRecord,
  type ClusterFacts,
  type ClusterReader,
} from '@flexnode/plugin-kube';
import { installStandin } from '../fakes/standins/install.js';
import { ArtifactManifest, buildNodeTarball, debianArch } from '../mirror/build-artifacts.js';
import { startMirror, type MirrorServer } from '../mirror/mirror-server.js';
import { coreBuilt, realHost } from './real-host.js';

/** A patch release of every minor AKS runs or ran lately, none of them in plugin-kube's pinned table. */
const VERSIONS = ['1.31.14', '1.32.11', '1.33.13', '1.34.12', '1.35.9', '1.36.5', '1.37.1'];
const TARBALL_VERSION = '1.36.5';

/** Kubernetes comes from the config here: a read of the cluster would be a bug. */
const noCluster: ClusterReader = async () => {
  throw new Error('the cluster was read although kubernetes.version is set');
};

describe('Kubernetes 1.31-1.37 verified against published .sha256 files; upstream urlTemplate (real Host, test mirror, kubelet STAND-IN)', function () {
  this.timeout(120_000);
  const arch = debianArch();
  let tmp = '';
  let mirror: MirrorServer;
  let manifest: ArtifactManifest;
  let tarball = '';
  let runs = 0;

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.log('      SKIP: needs root (the real Host sets owners)');
      return this.skip();
    }
    if (!(await coreBuilt())) {
      console.log('      SKIP: packages/core is not built');
      return this.skip();
    }
    tmp = mkdtempSync(join(tmpdir(), 'flexnode-kube-versions-'));
    manifest = new ArtifactManifest(arch);
    for (const version of VERSIONS) {
      const bins = join(tmp, 'release', version);
      installStandin('kubelet', join(bins, 'kubelet'), { kubeletVersion: version });
      for (const b of ['kubectl', 'kubeadm']) writeFileSync(join(bins, b), `#!/bin/sh\necho "${b} ${version} stand-in"\n`, { mode: 0o755 });
      if (version === TARBALL_VERSION) installStandin('kube-proxy', join(bins, 'kube-proxy'), { kubeletVersion: version });
      for (const b of KUBE_BINARIES) {
        const path = `kubernetes/v${version}/${b}-linux-${arch}`;
        await manifest.addFile(path, join(bins, b));
        await manifest.addChecksum(path, join(tmp, 'sums', version));
      }
    }
    // The node tarball in the upstream layout, at the mirror layout's path and at AKS's mirror's.
    const bins = join(tmp, 'release', TARBALL_VERSION);
    tarball = join(tmp, `kubernetes-node-linux-${arch}.tar.gz`);
    await buildNodeTarball(tarball, Object.fromEntries(['kubelet', 'kubectl', 'kubeadm', 'kube-proxy'].map((b) => [b, join(bins, b)])));
    const inMirror = `kubernetes/v${TARBALL_VERSION}/kubernetes-node-linux-${arch}.tar.gz`;
    await manifest.addFile(inMirror, tarball);
    await manifest.addChecksum(inMirror, join(tmp, 'sums', 'tarball'));
    await manifest.addFile(`kubernetes/v${TARBALL_VERSION}/binaries/kubernetes-node-linux-${arch}.tar.gz`, tarball);
    mirror = await startMirror(manifest);
  });

  after(async () => {
    await mirror?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const fresh = async (opts: { dryRun?: boolean; mirror?: boolean } = {}) => {
    const root = join(tmp, `root-${++runs}`);
    mkdirSync(join(root, 'var/lib'), { recursive: true });
    return {
      root,
      handle: await realHost(root, join(root, 'var/lib/flexnode'), { dryRun: opts.dryRun, mirror: opts.mirror === false ? undefined : mirror.url }),
    };
  };
  const make = (handle: Awaited<ReturnType<typeof fresh>>['handle'], config: FlexnodeConfig) =>
    createBinariesStep(noCluster).create({ host: handle.host('kube.binaries'), config, azure: undefined as never });
  const record = (root: string): BinariesRecord => {
    const journal = JSON.parse(readFileSync(join(root, 'var/lib/flexnode/journal.json'), 'utf8'));
    return journal.steps['kube.binaries'].changes.find((c: { type?: string }) => c.type === BINARIES_RECORD).data;
  };

  for (const version of VERSIONS) {
    it(`${version}: downloaded and verified against the .sha256 beside each file, no checksum pasted; the check needs no network`, async () => {
      const { root, handle } = await fresh();
      mirror.resetRequests();
      const step = make(handle, testConfig({ kubernetes: { version }, artifacts: { mirror: mirror.url } }));
      expect((await step.check()).status).to.equal('missing');
      await step.install();
      const paths = KUBE_BINARIES.map((b) => `kubernetes/v${version}/${b}-linux-${arch}`);
      expect(
        mirror
          .requests()
          .map((r) => r.path)
          .sort(),
      ).to.deep.equal([...paths, ...paths.map((p) => `${p}.sha256`)].sort());
      expect(record(root).artifacts.map((a) => a.sha256)).to.deep.equal(paths.map((p) => manifest.lookup(p)!.sha256));
      expect(execFileSync(join(root, 'usr/local/bin/kubelet'), ['--version'], { encoding: 'utf8' }).trim()).to.equal(`Kubernetes v${version}`);
      mirror.resetRequests();
      expect(await step.check()).to.deep.include({ status: 'ok' });
      expect(mirror.requests()).to.deep.equal([]);
      await step.uninstall();
      await handle.dispose();
      expect(existsSync(join(root, 'usr/local/bin/kubelet'))).to.equal(false);
    });
  }

  it('a wrong .sha256 is refused before anything is unpacked: no binary, nothing staged, nothing cached', async () => {
    const { root, handle } = await fresh();
    const inMirror = `kubernetes/v${TARBALL_VERSION}/kubernetes-node-linux-${arch}.tar.gz`;
    const good = manifest.lookup(`${inMirror}.sha256`)!;
    await manifest.addChecksum(inMirror, join(tmp, 'sums', 'wrong'), 'e'.repeat(64));
    try {
      const config = testConfig({
        kubernetes: { version: TARBALL_VERSION, urlTemplate: 'https://packages.aks.azure.com/kubernetes/v%s/binaries/kubernetes-node-linux-%s.tar.gz' },
        artifacts: { mirror: mirror.url },
      });
      const error = await make(handle, config)
        .install()
        .catch((e: unknown) => e);
      expect(isFlexnodeError(error) && error.code, String(error)).to.equal('CHECKSUM_MISMATCH');
      expect((error as Error).message).to.include(`expected ${'e'.repeat(64)}`);
      expect(existsSync(join(root, 'usr/local/bin'))).to.equal(false);
      const state = join(root, 'var/lib/flexnode');
      for (const dir of ['staging', 'cache']) expect(existsSync(join(state, dir)) ? readdirSync(join(state, dir)) : [], dir).to.deep.equal([]);
    } finally {
      await manifest.addFile(good.mirrorPath, good.file, { name: good.name, version: good.version });
      await handle.dispose();
    }
  });

  it("upstream urlTemplate: planned and installed from the URL Go's Sprintf(template, version, arch) makes; kubernetes/node/bin/* installed", async () => {
    const template = `${mirror.url}/kubernetes/v%s/binaries/kubernetes-node-linux-%s.tar.gz`;
    const filled = `${mirror.url}/kubernetes/v${TARBALL_VERSION}/binaries/kubernetes-node-linux-${arch}.tar.gz`;
    // Without a mirror the template's URL is used as is; a test server publishes no checksum, so it is pinned.
    const sha = manifest.lookup(`kubernetes/v${TARBALL_VERSION}/binaries/kubernetes-node-linux-${arch}.tar.gz`)!.sha256;
    const config = testConfig({ kubernetes: { version: TARBALL_VERSION, urlTemplate: template, sha256: { 'kubernetes-node': sha } } as never });
    const plan = await fresh({ dryRun: true, mirror: false });
    mirror.resetRequests();
    await make(plan.handle, config).install();
    expect(plan.handle.lines.map((l) => l.message)).to.include(`would download ${filled} (sha256 ${sha.slice(0, 12)}…)`);
    expect(mirror.requests()).to.deep.equal([]);
    await plan.handle.dispose();

    const { root, handle } = await fresh({ mirror: false });
    const step = make(handle, config);
    await step.install();
    expect(mirror.requests()).to.deep.equal([{ path: `kubernetes/v${TARBALL_VERSION}/binaries/kubernetes-node-linux-${arch}.tar.gz`, count: 1 }]);
    expect(readdirSync(join(root, 'usr/local/bin')).sort()).to.deep.equal(['kubeadm', 'kubectl', 'kubelet']); // not kube-proxy
    expect(execFileSync(join(root, 'usr/local/bin/kubelet'), ['--version'], { encoding: 'utf8' }).trim()).to.equal(`Kubernetes v${TARBALL_VERSION}`);
    expect(await step.check()).to.deep.include({ status: 'ok' });
    await step.uninstall();
    await handle.dispose();

    // With artifacts.mirror: the tarball and the .sha256 beside it from the mirror layout, no pin.
    const m = await fresh();
    mirror.resetRequests();
    const viaMirror = make(m.handle, testConfig({ kubernetes: { version: TARBALL_VERSION, urlTemplate: template }, artifacts: { mirror: mirror.url } }));
    await viaMirror.install();
    const inMirror = `kubernetes/v${TARBALL_VERSION}/kubernetes-node-linux-${arch}.tar.gz`;
    expect(
      mirror
        .requests()
        .map((r) => r.path)
        .sort(),
    ).to.deep.equal([inMirror, `${inMirror}.sha256`]);
    expect(record(m.root).artifacts).to.deep.equal([{ name: `Kubernetes node ${TARBALL_VERSION} (${arch})`, url: filled, sha256: sha }]);
    await viaMirror.uninstall();
    await m.handle.dispose();
  });

  it("kube.proxy (flexnode's kube-proxy): the kube-proxy of the same node tarball, verified like the kubelet's, nothing else from it", async () => {
    const template = `${mirror.url}/kubernetes/v%s/binaries/kubernetes-node-linux-%s.tar.gz`;
    const config = testConfig({
      kubernetes: { version: TARBALL_VERSION, urlTemplate: template },
      artifacts: { mirror: mirror.url },
      node: { name: 'edge-1' },
      cni: { podCIDR: '10.90.3.0/24' },
    });
    // An Azure CNI Overlay cluster: flexnode runs kube-proxy. Nothing here needs Azure: the facts are the test's.
    const facts: ClusterFacts = {
      resourceId: config.azure.targetCluster.resourceId,
      name: 'c',
      aad: true,
      azureRbac: true,
      server: 'https://c.hcp.westus.azmk8s.io:443',
      caPem: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n',
      networkPlugin: 'azure',
      networkPluginMode: 'overlay',
      podCidrs: ['10.244.0.0/16'],
      serviceCidrs: ['10.0.0.0/16'],
    };
    const identity: NodeIdentity = {
      getToken: async () => ({ token: 't', expiresOnTimestamp: 0 }),
      principalId: async () => 'p',
      execCredential: () => ({ command: '/usr/local/bin/flexnode', args: ['token'] }),
    };
    const { root, handle } = await fresh();
    mirror.resetRequests();
    const step = createProxyStep(async () => facts).create({
      host: handle.host('kube.proxy'),
      config,
      azure: undefined as never,
      identity,
      podCidr: typicalServices(config).get(PodCidr),
    });
    await step.install();
    const inMirror = `kubernetes/v${TARBALL_VERSION}/kubernetes-node-linux-${arch}.tar.gz`;
    expect(
      mirror
        .requests()
        .map((r) => r.path)
        .sort(),
    ).to.deep.equal([inMirror, `${inMirror}.sha256`]);
    expect(readdirSync(join(root, 'usr/local/bin'))).to.deep.equal(['kube-proxy']);
    expect(execFileSync(join(root, 'usr/local/bin/kube-proxy'), ['--version'], { encoding: 'utf8' }).trim()).to.equal(`Kubernetes v${TARBALL_VERSION}`);
    expect(readFileSync(join(root, 'var/lib/kube-proxy/config.yaml'), 'utf8')).to.contain('clusterCIDR: 10.90.3.0/24');
    expect(await step.check()).to.deep.include({ status: 'ok' });
    await step.uninstall();
    await handle.dispose();
    expect(existsSync(join(root, 'usr/local/bin'))).to.equal(false);
    expect(existsSync(join(root, 'var/lib/kube-proxy'))).to.equal(false);
  });
});
