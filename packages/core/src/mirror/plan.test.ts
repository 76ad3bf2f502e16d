import { ConfigError, type FlexnodeConfig, type MirrorArtifact } from '@flexnode/sdk';
import { expect } from 'chai';
import { resolvePlugins } from '../plugins/resolve.js';
import { loaded, noopStep } from '../plugins/test-plugins.fixture.js';
import { parseArches, planMirror } from './plan.js';

const SHA = (c: string) => c.repeat(64);
const config = { azure: { subscriptionId: 's', tenantId: 't', targetCluster: { resourceId: 'r' } } } as FlexnodeConfig;
const art = (path: string, extra: Partial<MirrorArtifact> = {}): MirrorArtifact => ({
  name: path,
  url: `https://example.invalid/${path}`,
  mirrorPath: path,
  sha256: SHA('a'),
  ...extra,
});

describe("mirror sync: what to mirror (the steps' artifacts hooks)", () => {
  it('asks only the steps that run: per architecture, one entry per mirror path, sorted', async () => {
    const asked: string[] = [];
    const plugin = loaded('@test/rt', 'bundled', [
      noopStep('rt.binary', { artifacts: (_c, arch) => (asked.push(`rt ${arch}`), [art(`rt/v1/rt-${arch}`), art('rt/v1/LICENSE')]) }),
      noopStep('rt.apt', { when: () => 'not this config', artifacts: () => (asked.push('apt'), [art('apt/v1/x')]) }),
      noopStep('rt.net', { provides: ['cni'], artifacts: async () => (asked.push('bundled cni'), [art('cni/v1/cni')]) }),
    ]);
    const other = loaded('@org/cni', 'user', [noopStep('org.cni', { provides: ['cni'], artifacts: (_c, arch) => [art(`org-cni/v2/cni-${arch}`)] })]);
    const { steps } = resolvePlugins([plugin, other], config);
    const planned = await planMirror(steps, config, ['amd64', 'arm64']);
    expect(planned.map((p) => p.artifact.mirrorPath)).to.deep.equal([
      'org-cni/v2/cni-amd64',
      'org-cni/v2/cni-arm64',
      'rt/v1/LICENSE',
      'rt/v1/rt-amd64',
      'rt/v1/rt-arm64',
    ]);
    expect(asked).to.deep.equal(['rt amd64', 'rt arm64']);
    expect(planned.find((p) => p.artifact.mirrorPath === 'org-cni/v2/cni-arm64')).to.include({ plugin: '@org/cni', step: 'org.cni', arch: 'arm64' });
  });

  it("passes a hook's ConfigError through (exit 2) and refuses one path with two checksums", async () => {
    const needsVersion = loaded('@test/k', 'bundled', [
      noopStep('k.bin', {
        artifacts: () => {
          throw new ConfigError('kubernetes.version is not set', [{ path: 'kubernetes.version', message: 'required' }]);
        },
      }),
    ]);
    const e1 = await planMirror(resolvePlugins([needsVersion], config).steps, config, ['amd64']).catch((e: ConfigError) => e);
    expect(e1).to.be.instanceOf(ConfigError);
    const clash = loaded('@test/c', 'bundled', [
      noopStep('c.one', { artifacts: () => [art('x/v1/f')] }),
      noopStep('c.two', { artifacts: () => [art('x/v1/f', { sha256: SHA('b') })] }),
    ]);
    const e2 = (await planMirror(resolvePlugins([clash], config).steps, config, ['amd64']).catch((e: Error) => e)) as Error & { exitCode: number };
    expect(e2.exitCode).to.equal(2);
    expect(e2.message).to.match(/x\/v1\/f is wanted with two checksums/);
  });

  it('refuses unusable artifacts from a plugin, naming the plugin and step', async () => {
    const cases: [Partial<MirrorArtifact>, RegExp][] = [
      [{ mirrorPath: '../etc/passwd' }, /mirrorPath/],
      [{ mirrorPath: '/abs/v1/f' }, /mirrorPath/],
      [{ mirrorPath: 'manifest.json' }, /mirrorPath/],
      [{ url: 'file:///etc/passwd' }, /not an http\(s\) URL/],
      [{ sha256: 'abc' }, /not 64 hex digits/],
      [{ sha256: undefined }, /cannot be verified/],
      [{ sha256MirrorPath: 'x/v1/f.sha256' }, /without a sha256Url/],
    ];
    for (const [extra, why] of cases) {
      const p = loaded('@bad/plugin', 'user', [noopStep('bad.step', { artifacts: () => [art('x/v1/f', extra)] })]);
      const e = await planMirror(resolvePlugins([p], config).steps, config, ['amd64']).catch((err: Error) => err);
      expect((e as Error).message, JSON.stringify(extra))
        .to.match(why)
        .and.contain('@bad/plugin (step bad.step, amd64)');
    }
  });

  it('--arch takes amd64 and arm64 only (exit 2 otherwise)', () => {
    expect(parseArches(['arm64', 'amd64', 'arm64'])).to.deep.equal(['arm64', 'amd64']);
    for (const bad of [['x86_64'], ['amd64', 'riscv64'], ['']]) {
      expect(() => parseArches(bad), bad.join())
        .to.throw(/--arch/)
        .with.property('exitCode', 2);
    }
  });
});
