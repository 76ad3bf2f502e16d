import { expect } from 'chai';
import { ConfigError } from './errors.js';
import { normalizeVersion, resolveArtifact, type ComponentSpec } from './pinned-artifact.js';

const spec: ComponentSpec = {
  component: 'widget',
  configSection: 'widgetry',
  defaultVersion: '1.2.0',
  table: { '1.2.0': { amd64: 'a'.repeat(64), arm64: 'b'.repeat(64) }, '1.1.0': { amd64: 'c'.repeat(64), arm64: 'd'.repeat(64) } },
  file: (v, arch) => `widget-${v}-${arch}.tgz`,
  url: (v, arch) => `https://example.test/v${v}/widget-${v}-${arch}.tgz`,
  checksumSource: 'the SHA256SUMS file',
};

describe('resolveArtifact (pinned release artifacts)', () => {
  it('pins the default version from the table, with the upstream URL and the mirror path', () => {
    expect(resolveArtifact(spec, undefined, 'arm64')).to.deep.equal({
      name: 'widget 1.2.0 (arm64)',
      url: 'https://example.test/v1.2.0/widget-1.2.0-arm64.tgz',
      mirrorPath: 'widget/v1.2.0/widget-1.2.0-arm64.tgz',
      sha256: 'b'.repeat(64),
    });
  });

  it('takes the config version (with or without v) and lets the config sha256 win over the table', () => {
    expect(resolveArtifact(spec, { version: ' v1.1.0' }, 'amd64').sha256).to.equal('c'.repeat(64));
    expect(resolveArtifact(spec, { version: '1.1.0', sha256: 'E'.repeat(64) }, 'amd64').sha256).to.equal('e'.repeat(64));
    expect(resolveArtifact(spec, { version: '9.9.9', sha256: { arm64: 'f'.repeat(64) } }, 'arm64').mirrorPath).to.equal('widget/v9.9.9/widget-9.9.9-arm64.tgz');
  });

  it('replaces only the upstream URL when told to (upstream runc.url), never the mirror path', () => {
    const a = resolveArtifact(spec, undefined, 'amd64', 'https://elsewhere.test/w');
    expect(a.url).to.equal('https://elsewhere.test/w');
    expect(a.mirrorPath).to.equal('widget/v1.2.0/widget-1.2.0-amd64.tgz');
  });

  it('refuses an unpinned version without a config sha256: exit 2, the field, the hint with the source', () => {
    let error: unknown;
    try {
      resolveArtifact(spec, { version: '9.9.9', sha256: { arm64: 'f'.repeat(64) } }, 'amd64');
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ConfigError);
    const e = error as ConfigError;
    expect(e.message).to.equal('widget 9.9.9 (amd64) has no pinned sha256: set widgetry.sha256 in the config');
    expect(e.issues).to.deep.equal([{ path: 'widgetry.sha256', message: 'required for widgetry.version 9.9.9, which flexnode does not pin' }]);
    expect(e.hint).to.contain('the SHA256SUMS file').and.contain('1.2.0, 1.1.0');
    expect(e.exitCode).to.equal(2);
  });

  it('refuses a config sha256 that is not 64 hex characters', () => {
    expect(() => resolveArtifact(spec, { sha256: 'abc' }, 'amd64')).to.throw(ConfigError, 'widgetry.sha256 is not a sha256: "abc"');
  });

  it('normalizes versions', () => {
    expect(normalizeVersion(' v1.7.22 ')).to.equal('1.7.22');
    expect(normalizeVersion('1.7.22')).to.equal('1.7.22');
  });
});
