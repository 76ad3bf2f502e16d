import { ConfigError, isFlexnodeError } from '@flexnode/sdk';
import { MemoryHost, runStepCycle, testConfig } from '@flexnode/sdk/testing';
import { expect } from 'chai';
import { azureServices, fakeReader } from '../fixtures.test.helpers.js';
import { fromTemplate, kubeArtifact, mirrorPathOf } from './artifacts.js';
import { createBinariesStep } from './step.js';
import { KUBE_BINARIES, KUBE_CHECKSUMS } from './versions.js';

const SHA = /^[0-9a-f]{64}$/;

describe('kube.binaries', () => {
  it('the pinned table is complete and well-formed (every version: 3 binaries × amd64/arm64, distinct)', () => {
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
  });

  it('artifact: upstream URL, mirror path, pinned sha256; upstream urlTemplate honoured', () => {
    const a = kubeArtifact(testConfig({ kubernetes: { version: 'v1.30.4' } }), 'v1.30.4', 'arm64', 'kubeadm');
    expect(a).to.deep.equal({
      name: 'kubeadm 1.30.4 (arm64)',
      url: 'https://dl.k8s.io/v1.30.4/bin/linux/arm64/kubeadm',
      mirrorPath: 'kubernetes/v1.30.4/kubeadm-linux-arm64',
      sha256: '609afad8590afb39b500cc5175c64b17690f7bf0b0eebcf1d347656d262e5c8c',
    });
    expect(fromTemplate('https://dl.k8s.io/v%s/bin/linux/%s/%s', '1.30.4', 'amd64', 'kubelet')).to.equal('https://dl.k8s.io/v1.30.4/bin/linux/amd64/kubelet');
    expect(mirrorPathOf('1.34.1', 'amd64', 'kubectl')).to.equal('kubernetes/v1.34.1/kubectl-linux-amd64');
  });

  it('a version without a pinned sha256 is a config error that says how to pin it; kubernetes.sha256 pins it', () => {
    let error: unknown;
    try {
      kubeArtifact(testConfig(), '1.31.2', 'amd64', 'kubelet');
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).message).to.match(/kubelet 1\.31\.2 \(amd64\) has no pinned sha256: set kubernetes\.sha256\.kubelet/);
    expect((error as ConfigError).hint).to.match(/kubelet\.sha256/);
    const pinned = testConfig({ kubernetes: { version: '1.31.2', sha256: { kubelet: 'a'.repeat(64), kubectl: { amd64: 'b'.repeat(64) } } } as never });
    expect(kubeArtifact(pinned, '1.31.2', 'amd64', 'kubelet').sha256).to.equal('a'.repeat(64));
    expect(kubeArtifact(pinned, '1.31.2', 'amd64', 'kubectl').sha256).to.equal('b'.repeat(64));
    expect(() => kubeArtifact(pinned, '1.31.2', 'arm64', 'kubectl')).to.throw(/kubectl 1\.31\.2 \(arm64\) has no pinned sha256/);
  });

  it('installs the three binaries 0755 from verified downloads; version from the cluster when unset; uninstall removes them', async () => {
    const host = new MemoryHost();
    const config = testConfig({ kubernetes: { sha256: { kubelet: undefined } } as never });
    const version = '1.31.2';
    const pins: Record<string, string> = {};
    for (const bin of KUBE_BINARIES) pins[bin] = host.addArtifact(`https://dl.k8s.io/v${version}/bin/linux/amd64/${bin}`, `#!/bin/sh\necho ${bin}\n`);
    (config as { kubernetes: unknown }).kubernetes = { sha256: pins };
    const reader = fakeReader({ kubernetesVersion: version });
    const report = await runStepCycle(createBinariesStep(reader), { config, host, services: azureServices() });
    for (const bin of KUBE_BINARIES) expect(report.installed.files[`/usr/local/bin/${bin}`]).to.deep.include({ mode: 0o755, sha256: pins[bin] });
    expect(report.installOps.filter((o) => o.op === 'download').map((o) => o.target)).to.have.length(3);
    expect(report.pristine.files).to.deep.equal({});
  });

  it('a corrupted download fails with the checksum error and installs nothing; a replaced binary is drift', async () => {
    const host = new MemoryHost();
    for (const bin of KUBE_BINARIES) host.addArtifact(`https://dl.k8s.io/v1.30.4/bin/linux/amd64/${bin}`, 'not the real binary');
    const step = createBinariesStep(fakeReader()).create({ host: host.forStep('kube.binaries'), config: testConfig({ kubernetes: { version: '1.30.4' } }), azure: undefined as never });
    let error: unknown;
    await step.install().catch((e: unknown) => (error = e));
    expect(isFlexnodeError(error) && error.code).to.equal('CHECKSUM_MISMATCH');
    expect([...host.files.keys()].filter((p) => p.startsWith('/usr/local'))).to.deep.equal([]);

    const good = new MemoryHost();
    const sha = good.addArtifact('https://dl.k8s.io/v1.31.2/bin/linux/amd64/kubelet', 'kubelet');
    const config = testConfig({ kubernetes: { version: '1.31.2', sha256: { kubelet: sha, kubectl: sha, kubeadm: sha } } } as never);
    for (const bin of ['kubectl', 'kubeadm']) good.addArtifact(`https://dl.k8s.io/v1.31.2/bin/linux/amd64/${bin}`, 'kubelet');
    const s = createBinariesStep(fakeReader()).create({ host: good.forStep('kube.binaries'), config: config, azure: undefined as never });
    await s.install();
    expect(await s.check()).to.deep.include({ status: 'ok' });
    good.seedFile('/usr/local/bin/kubelet', 'tampered', 0o755);
    const c = await s.check();
    expect(c.status).to.equal('drifted');
    expect(c.status !== 'ok' && c.reason).to.match(/\/usr\/local\/bin\/kubelet has sha256 [0-9a-f]+, not the/);
  });
});
