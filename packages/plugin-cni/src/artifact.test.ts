import { expect } from 'chai';
import { ConfigError } from '@flexnode/sdk';
import { testConfig } from '@flexnode/sdk/testing';
import { cniPluginsArtifact } from './artifact.js';
import { CNI_PLUGINS_VERSIONS, DEFAULT_CNI_PLUGINS_VERSION } from './versions.js';

describe('cni-plugins artifact', () => {
  it('pins 1.5.1 (as upstream) with the upstream URL and mirror path', () => {
    expect(DEFAULT_CNI_PLUGINS_VERSION).to.equal('1.5.1');
    expect(cniPluginsArtifact(testConfig(), 'amd64')).to.deep.equal({
      name: 'cni-plugins 1.5.1 (amd64)',
      url: 'https://github.com/containernetworking/plugins/releases/download/v1.5.1/cni-plugins-linux-amd64-v1.5.1.tgz',
      mirrorPath: 'cni-plugins/v1.5.1/cni-plugins-linux-amd64-v1.5.1.tgz',
      sha256: '77baa2f669980a82255ffa2f2717de823992480271ee778aa51a9c60ae89ff9b',
    });
    expect(cniPluginsArtifact(testConfig(), 'arm64').sha256).to.equal(CNI_PLUGINS_VERSIONS['1.5.1']!.arm64);
  });

  it('every pinned checksum is 64 lowercase hex characters, for both architectures', () => {
    for (const [version, sums] of Object.entries(CNI_PLUGINS_VERSIONS)) {
      expect(sums.amd64, version).to.match(/^[0-9a-f]{64}$/);
      expect(sums.arm64, version).to.match(/^[0-9a-f]{64}$/);
    }
  });

  it('lets the config override version and sha256', () => {
    const sum = 'c'.repeat(64);
    const a = cniPluginsArtifact(testConfig({ cni: { version: 'v1.9.9', sha256: { amd64: sum } } }), 'amd64');
    expect(a.sha256).to.equal(sum);
    expect(a.mirrorPath).to.equal('cni-plugins/v1.9.9/cni-plugins-linux-amd64-v1.9.9.tgz');
    expect(cniPluginsArtifact(testConfig({ cni: { version: '1.4.0' } }), 'arm64').sha256).to.equal(CNI_PLUGINS_VERSIONS['1.4.0']!.arm64);
  });

  it('refuses an unpinned version without a sha256, naming cni.sha256', () => {
    expect(() => cniPluginsArtifact(testConfig({ cni: { version: '1.9.9' } }), 'amd64')).to.throw(
      ConfigError,
      /cni-plugins 1\.9\.9 \(amd64\) has no pinned sha256: set cni\.sha256/,
    );
  });
});
