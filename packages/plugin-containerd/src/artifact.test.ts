import { expect } from 'chai';
import { ConfigError, isFlexnodeError } from '@flexnode/sdk';
import { testConfig } from '@flexnode/sdk/testing';
import { containerdArtifact, runcArtifact } from './components.js';
import { CONTAINERD_VERSIONS, DEFAULT_CONTAINERD_VERSION, DEFAULT_RUNC_VERSION, RUNC_VERSIONS } from './versions.js';

describe('containerd/runc artifacts', () => {
  it('pins the default containerd tarball with the upstream URL and mirror path', () => {
    const a = containerdArtifact(testConfig(), 'amd64');
    expect(a).to.deep.equal({
      name: `containerd ${DEFAULT_CONTAINERD_VERSION} (amd64)`,
      url: `https://github.com/containerd/containerd/releases/download/v${DEFAULT_CONTAINERD_VERSION}/containerd-${DEFAULT_CONTAINERD_VERSION}-linux-amd64.tar.gz`,
      mirrorPath: `containerd/v${DEFAULT_CONTAINERD_VERSION}/containerd-${DEFAULT_CONTAINERD_VERSION}-linux-amd64.tar.gz`,
      sha256: CONTAINERD_VERSIONS[DEFAULT_CONTAINERD_VERSION]!.amd64,
    });
    expect(containerdArtifact(testConfig(), 'arm64').sha256).to.equal(CONTAINERD_VERSIONS[DEFAULT_CONTAINERD_VERSION]!.arm64);
  });

  it('pins the default runc binary per architecture', () => {
    const a = runcArtifact(testConfig(), 'arm64');
    expect(a.url).to.equal(`https://github.com/opencontainers/runc/releases/download/v${DEFAULT_RUNC_VERSION}/runc.arm64`);
    expect(a.mirrorPath).to.equal(`runc/v${DEFAULT_RUNC_VERSION}/runc.arm64`);
    expect(a.sha256).to.equal(RUNC_VERSIONS[DEFAULT_RUNC_VERSION]!.arm64);
  });

  it('every pinned checksum is 64 lowercase hex characters, for both architectures', () => {
    for (const table of [CONTAINERD_VERSIONS, RUNC_VERSIONS]) {
      for (const [version, sums] of Object.entries(table)) {
        expect(sums.amd64, version).to.match(/^[0-9a-f]{64}$/);
        expect(sums.arm64, version).to.match(/^[0-9a-f]{64}$/);
        expect(sums.amd64).to.not.equal(sums.arm64);
      }
    }
  });

  it('takes another pinned version from the config, with or without a leading v', () => {
    const a = containerdArtifact(testConfig({ containerd: { version: 'v1.7.20' } }), 'amd64');
    expect(a.sha256).to.equal(CONTAINERD_VERSIONS['1.7.20']!.amd64);
    expect(a.mirrorPath).to.equal('containerd/v1.7.20/containerd-1.7.20-linux-amd64.tar.gz');
  });

  it("runs upstream's runc default, 1.1.12 with its URL, unchanged: pinned for both architectures", () => {
    const upstream = testConfig({ runc: { version: '1.1.12', url: 'https://github.com/opencontainers/runc/releases/download/v1.1.12/runc.amd64' } });
    expect(runcArtifact(upstream, 'amd64').sha256).to.equal('aadeef400b8f05645768c1476d1023f7875b78f52c7ff1967a6dbce236b8cbd8');
    expect(runcArtifact(testConfig({ runc: { version: '1.1.12' } }), 'arm64').sha256).to.equal(RUNC_VERSIONS['1.1.12']!.arm64);
  });

  it('lets the config override version and sha256 (string or per architecture)', () => {
    const sum = 'a'.repeat(64);
    expect(containerdArtifact(testConfig({ containerd: { version: '1.7.99', sha256: sum } }), 'amd64').sha256).to.equal(sum);
    const perArch = testConfig({ containerd: { version: '1.7.99', sha256: { arm64: 'B'.repeat(64) } } });
    expect(containerdArtifact(perArch, 'arm64').sha256).to.equal('b'.repeat(64));
    // The config's checksum wins over the table for a pinned version too (a rebuilt artifact on a mirror).
    expect(runcArtifact(testConfig({ runc: { version: '1.1.14', sha256: sum } }), 'amd64').sha256).to.equal(sum);
  });

  it('refuses a version it does not pin when the config gives no sha256, naming the field', () => {
    let error: unknown;
    try {
      containerdArtifact(testConfig({ containerd: { version: '1.7.99', sha256: { arm64: 'b'.repeat(64) } } }), 'amd64');
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ConfigError);
    expect(isFlexnodeError(error)).to.equal(true);
    const e = error as ConfigError;
    expect(e.message).to.contain('containerd 1.7.99 (amd64) has no pinned sha256').and.contain('containerd.sha256');
    expect(e.issues[0]!.path).to.equal('containerd.sha256');
    expect(e.exitCode).to.equal(2);
  });

  it('refuses a config sha256 that is not one', () => {
    expect(() => runcArtifact(testConfig({ runc: { sha256: 'abc' } }), 'amd64')).to.throw(ConfigError, /not a sha256/);
  });

  it("uses upstream's runc.url instead of the release URL, keeping the mirror path", () => {
    const a = runcArtifact(testConfig({ runc: { url: 'https://example.test/runc' } }), 'amd64');
    expect(a.url).to.equal('https://example.test/runc');
    expect(a.mirrorPath).to.equal(`runc/v${DEFAULT_RUNC_VERSION}/runc.amd64`);
  });
});
