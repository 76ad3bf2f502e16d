import { ConfigError, isFlexnodeError } from '@flexnode/sdk';
import { MemoryHost, runStepCycle, testConfig } from '@flexnode/sdk/testing';
import { expect } from 'chai';
import { cachedReader, type ClusterReader } from '../cluster/cluster.js';
import { azureServices, fakeReader } from '../fixtures.test.helpers.js';
import { kubeArtifacts, kubeRelease } from './artifacts.js';
import { createBinariesStep } from '../steps.js';
import { BINARIES_RECORD } from './step.js';
import { fillUrlTemplate } from './url-template.js';
import { KUBE_BINARIES, KUBE_CHECKSUMS } from './versions.js';

const SHA = /^[0-9a-f]{64}$/;
const UPSTREAM_TEMPLATE = 'https://acs-mirror.azureedge.net/kubernetes/v%s/binaries/kubernetes-node-linux-%s.tar.gz';

/** Serve each binary of `version` with the `.sha256` dl.k8s.io publishes beside it; returns the digests. */
function serveRelease(host: MemoryHost, version: string, arch = 'amd64', body = (bin: string) => `#!/bin/sh\necho ${bin} ${version}\n`) {
  const digests: Record<string, string> = {};
  for (const bin of KUBE_BINARIES) {
    const url = `https://dl.k8s.io/v${version}/bin/linux/${arch}/${bin}`;
    digests[bin] = host.addArtifact(url, body(bin));
    host.addArtifact(`${url}.sha256`, digests[bin]!);
  }
  return digests;
}

/** A node tarball (kubernetes/node/bin/*) at `url`; its digest. */
function serveTarball(host: MemoryHost, url: string, members = KUBE_BINARIES as readonly string[]) {
  const entries = Object.fromEntries(members.map((b) => [`kubernetes/node/bin/${b}`, `#!/bin/sh\necho ${b} from the tarball\n`]));
  return host.addArtifact(url, `tarball of ${url}`, entries);
}

const step = (reader: ClusterReader = fakeReader()) => createBinariesStep(reader);
const instance = (host: MemoryHost, config: ReturnType<typeof testConfig>, reader: ClusterReader = fakeReader()) =>
  step(reader).create({ host: host.forStep('kube.binaries'), config, azure: undefined as never });

describe('kube.binaries: where each version comes from and how it is verified', () => {
  it('the pinned table is complete and well-formed (every version: 3 binaries × amd64/arm64, distinct) and reaches 1.36', () => {
    const seen = new Set<string>();
    for (const [version, bins] of Object.entries(KUBE_CHECKSUMS)) {
      expect(version).to.match(/^\d+\.\d+\.\d+$/);
      for (const bin of KUBE_BINARIES) {
        for (const arch of ['amd64', 'arm64'] as const) {
          const sha = bins[bin][arch];
          expect(sha, `${version} ${bin} ${arch}`).to.match(SHA);
          expect(seen.has(sha), `duplicate ${sha}`).to.equal(false);
          seen.add(sha);
        }
      }
    }
    expect(KUBE_CHECKSUMS['1.30.4']!.kubelet.amd64).to.equal('0c02c0f997b3e9769eae7ca051856054411fca947b3d5409d991ce1964dd0e69');
    expect(KUBE_CHECKSUMS['1.36.4']!.kubelet.amd64).to.equal('cf2562db46c48ab84cc3791540778ee7fb1a0a008529adbb434723dd02ed8b4b');
  });

  it('upstream urlTemplate is filled as Go fills it: version then arch, %% and %[n]s; anything Go would garble is refused', () => {
    expect(fillUrlTemplate(UPSTREAM_TEMPLATE, ['1.35.2', 'arm64'])).to.equal(
      'https://acs-mirror.azureedge.net/kubernetes/v1.35.2/binaries/kubernetes-node-linux-arm64.tar.gz',
    );
    expect(fillUrlTemplate('https://m/%[2]s/v%[1]s/k-%[2]s.tgz?x=100%%', ['1.35.2', 'amd64'])).to.equal('https://m/amd64/v1.35.2/k-amd64.tgz?x=100%');
    expect(() => fillUrlTemplate('https://m/v%s/kubernetes-node.tar.gz', ['1.35.2', 'amd64'])).to.throw(
      ConfigError,
      /does not use both the version and the arch/,
    );
    expect(() => fillUrlTemplate('https://m/v%s/%s/%s', ['1.35.2', 'amd64'])).to.throw(ConfigError, /asks for more than the 2 values/);
    expect(() => fillUrlTemplate('https://m/v%d/%s', ['1.35.2', 'amd64'])).to.throw(ConfigError, /"%d", which is not a string verb/);
  });

  it('an upstream version: each binary from dl.k8s.io, the pinned table where it has the version, else the .sha256 beside it', () => {
    const pinned = kubeRelease(testConfig(), 'arm64', 'v1.34.4');
    expect(pinned.kind === 'binaries' && pinned.artifacts.find((a) => a.bin === 'kubelet')).to.deep.include({
      url: 'https://dl.k8s.io/v1.34.4/bin/linux/arm64/kubelet',
      mirrorPath: 'kubernetes/v1.34.4/kubelet-linux-arm64',
      sha256: KUBE_CHECKSUMS['1.34.4']!.kubelet.arm64,
    });
    expect(kubeArtifacts(testConfig(), 'amd64', '1.37.1')).to.deep.equal(
      KUBE_BINARIES.map((bin) => ({
        name: `${bin} 1.37.1 (amd64)`,
        url: `https://dl.k8s.io/v1.37.1/bin/linux/amd64/${bin}`,
        mirrorPath: `kubernetes/v1.37.1/${bin}-linux-amd64`,
        sha256Url: `https://dl.k8s.io/v1.37.1/bin/linux/amd64/${bin}.sha256`,
        sha256MirrorPath: `kubernetes/v1.37.1/${bin}-linux-amd64.sha256`,
      })),
    );
    // kubernetes.sha256 wins over the table and over what is published.
    const config = testConfig({ kubernetes: { sha256: { kubelet: 'A'.repeat(64), kubectl: { arm64: 'b'.repeat(64) } } } as never });
    const [kubelet, kubectl] = kubeArtifacts(config, 'arm64', '1.34.4');
    expect(kubelet!.sha256).to.equal('a'.repeat(64));
    expect(kubectl!.sha256).to.equal('b'.repeat(64));
    expect(() => kubeArtifacts(testConfig({ kubernetes: { sha256: { kubelet: 'nope' } } } as never), 'amd64', '1.37.1')).to.throw(
      ConfigError,
      /kubernetes\.sha256\.kubelet is not a sha256/,
    );
  });

  it("upstream urlTemplate: the node tarball; AKS's mirror publishes no checksum, so the same tarball's .sha256 on dl.k8s.io vouches for it", () => {
    const config = testConfig({ kubernetes: { urlTemplate: UPSTREAM_TEMPLATE } });
    expect(kubeArtifacts(config, 'amd64', '1.35.2')).to.deep.equal([
      {
        name: 'Kubernetes node 1.35.2 (amd64)',
        url: 'https://acs-mirror.azureedge.net/kubernetes/v1.35.2/binaries/kubernetes-node-linux-amd64.tar.gz',
        mirrorPath: 'kubernetes/v1.35.2/kubernetes-node-linux-amd64.tar.gz',
        sha256Url: 'https://dl.k8s.io/v1.35.2/kubernetes-node-linux-amd64.tar.gz.sha256',
        sha256MirrorPath: 'kubernetes/v1.35.2/kubernetes-node-linux-amd64.tar.gz.sha256',
      },
    ]);
    const release = kubeRelease(config, 'amd64', '1.35.2');
    expect(release.kind === 'node-tarball' && release.members).to.deep.equal({
      kubelet: 'kubernetes/node/bin/kubelet',
      kubectl: 'kubernetes/node/bin/kubectl',
      kubeadm: 'kubernetes/node/bin/kubeadm',
    });
    // A template on dl.k8s.io itself: the .sha256 beside the file.
    const dl = testConfig({ kubernetes: { urlTemplate: 'https://dl.k8s.io/v%s/kubernetes-node-linux-%s.tar.gz' } });
    expect(kubeArtifacts(dl, 'arm64', '1.36.0')[0]!.sha256Url).to.equal('https://dl.k8s.io/v1.36.0/kubernetes-node-linux-arm64.tar.gz.sha256');
  });

  it("an AKS LTS build is understood: AKS's mirror by default, and refused without a configured checksum, naming the choices", () => {
    const lts = kubeRelease(testConfig({ kubernetes: { sha256: { 'kubernetes-node': { amd64: 'c'.repeat(64) } } } as never }), 'amd64', '1.30.101-akslts');
    expect(lts).to.deep.include({ kind: 'node-tarball', version: '1.30.101-akslts' });
    expect(lts.kind === 'node-tarball' && lts.artifact).to.deep.equal({
      name: 'Kubernetes node 1.30.101-akslts (amd64)',
      url: 'https://packages.aks.azure.com/kubernetes/v1.30.101-akslts/binaries/kubernetes-node-linux-amd64.tar.gz',
      mirrorPath: 'kubernetes/v1.30.101-akslts/kubernetes-node-linux-amd64.tar.gz',
      sha256: 'c'.repeat(64),
    });
    for (const config of [testConfig(), testConfig({ kubernetes: { urlTemplate: UPSTREAM_TEMPLATE } })]) {
      let error: ConfigError | undefined;
      try {
        kubeRelease(config, 'amd64', '1.30.101-akslts');
      } catch (e) {
        error = e as ConfigError;
      }
      expect(error).to.be.instanceOf(ConfigError);
      expect(error!.message).to.match(/cannot be verified: that server publishes no checksum \(1\.30\.101-akslts is an AKS build/);
      expect(error!.issues[0]!.path).to.equal('kubernetes.sha256.kubernetes-node');
      expect(error!.hint).to.match(/"kubernetes-node": \{"amd64": "<sha256>"\}.*removing kubernetes\.urlTemplate.*1\.30\.x/);
    }
  });
});

describe('kube.binaries step', () => {
  for (const version of ['1.31.14', '1.32.11', '1.33.13', '1.34.12', '1.35.9', '1.36.5', '1.37.1']) {
    it(`installs ${version} verified against the published .sha256, without pasted checksums; the check needs no network`, async () => {
      const host = new MemoryHost();
      const digests = serveRelease(host, version);
      const report = await runStepCycle(step(), { config: testConfig({ kubernetes: { version } }), host, services: azureServices() });
      for (const bin of KUBE_BINARIES) expect(report.installed.files[`/usr/local/bin/${bin}`]).to.deep.include({ mode: 0o755, sha256: digests[bin] });
      expect(report.installOps.filter((o) => o.op === 'checksum').map((o) => o.target)).to.have.members(
        KUBE_BINARIES.map((b) => `https://dl.k8s.io/v${version}/bin/linux/amd64/${b}.sha256`),
      );
      expect(report.pristine.files).to.deep.equal({});
    });
  }

  it('a wrong .sha256 is refused before anything is copied or unpacked', async () => {
    const host = new MemoryHost();
    serveRelease(host, '1.35.9');
    host.addArtifact('https://dl.k8s.io/v1.35.9/bin/linux/amd64/kubectl.sha256', 'f'.repeat(64));
    const error = await instance(host, testConfig({ kubernetes: { version: '1.35.9' } }))
      .install()
      .catch((e: unknown) => e);
    expect(isFlexnodeError(error) && error.code).to.equal('CHECKSUM_MISMATCH');
    expect((error as Error).message).to.match(/kubectl 1\.35\.9 \(amd64\): sha256 mismatch .*expected f{64}/);
    expect([...host.files.keys()].filter((p) => p.startsWith('/usr/local'))).to.deep.equal([]);
    expect(host.journal.get('kube.binaries') ?? []).to.deep.equal([]);
  });

  it('upstream urlTemplate: the node tarball is verified, unpacked and kubernetes/node/bin/* installed as upstream did', async () => {
    const host = new MemoryHost();
    const url = 'https://acs-mirror.azureedge.net/kubernetes/v1.35.2/binaries/kubernetes-node-linux-amd64.tar.gz';
    const digest = serveTarball(host, url);
    host.addArtifact('https://dl.k8s.io/v1.35.2/kubernetes-node-linux-amd64.tar.gz.sha256', `${digest}  kubernetes-node-linux-amd64.tar.gz\n`);
    const config = testConfig({ kubernetes: { version: '1.35.2', urlTemplate: UPSTREAM_TEMPLATE } });
    const report = await runStepCycle(step(), { config, host, services: azureServices() });
    expect(report.installOps.filter((o) => o.op === 'download').map((o) => o.target)).to.deep.equal([url]);
    for (const bin of KUBE_BINARIES) {
      expect(report.installed.files[`/usr/local/bin/${bin}`], bin).to.deep.include({ mode: 0o755 });
      expect(host.files.get(`/usr/local/bin/${bin}`)).to.equal(undefined); // removed again by the cycle's uninstall
    }
    // A tarball without the layout fails before anything is copied.
    const broken = new MemoryHost();
    const d2 = serveTarball(broken, url, ['kubelet', 'kubectl']);
    broken.addArtifact('https://dl.k8s.io/v1.35.2/kubernetes-node-linux-amd64.tar.gz.sha256', d2);
    const error = await instance(broken, config)
      .install()
      .catch((e: unknown) => e);
    expect(isFlexnodeError(error) && error.code).to.equal('ARTIFACT_LAYOUT');
    expect((error as Error).message).to.match(/has no kubernetes\/node\/bin\/kubeadm/);
    expect([...broken.files.keys()].filter((p) => p.startsWith('/usr/local'))).to.deep.equal([]);
  });

  it('version from the cluster when unset, read once: afterwards the check works from the record alone', async () => {
    const host = new MemoryHost();
    serveRelease(host, '1.35.9');
    const reader = fakeReader({ kubernetesVersion: '1.35.9' });
    await instance(host, testConfig(), cachedReader(reader)).install(); // the default reader is cached per run, like this
    expect(reader.calls).to.equal(1);
    const record = host.journal.get('kube.binaries')!.find((c) => c.kind === 'custom' && c.type === BINARIES_RECORD);
    expect(record && record.kind === 'custom' && record.data).to.deep.include({ version: '1.35.9' });
    const offline = fakeReader();
    const later = instance(host, testConfig(), offline);
    expect(await later.check()).to.deep.include({ status: 'ok', detail: 'Kubernetes 1.35.9 (amd64) from https://dl.k8s.io/v1.35.9/bin/linux/amd64/' });
    expect(offline.calls).to.equal(0);
  });

  it('drift: a replaced binary, another configured version, another pinned sha256', async () => {
    const host = new MemoryHost();
    const digests = serveRelease(host, '1.35.9');
    await instance(host, testConfig({ kubernetes: { version: '1.35.9' } })).install();
    expect(await instance(host, testConfig({ kubernetes: { version: '1.36.5' } })).check()).to.deep.include({
      status: 'drifted',
      reason: 'Kubernetes 1.35.9 is installed, the config asks for 1.36.5',
    });
    const repinned = testConfig({ kubernetes: { version: '1.35.9', sha256: { kubelet: 'e'.repeat(64) } } } as never);
    expect(await instance(host, repinned).check()).to.deep.include({
      status: 'drifted',
      reason: `kubelet 1.35.9 (amd64) was verified as ${digests.kubelet}, the config now pins ${'e'.repeat(64)}`,
    });
    host.seedFile('/usr/local/bin/kubelet', 'tampered', 0o755);
    const c = await instance(host, testConfig({ kubernetes: { version: '1.35.9' } })).check();
    expect(c.status).to.equal('drifted');
    expect(c.status !== 'ok' && c.reason).to.match(/\/usr\/local\/bin\/kubelet has sha256 [0-9a-f]+, not the [0-9a-f]+ of Kubernetes 1\.35\.9/);
  });
});
