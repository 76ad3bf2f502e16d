import { testConfig } from '@flexnode/sdk/testing';
import { expect } from 'chai';
import { resolvePlugins } from './resolve.js';
import { loaded, noopStep } from './test-plugins.js';

const bundledCni = () => loaded('@flexnode/plugin-cni', 'bundled', [noopStep('cni.plugins', { provides: ['cni-plugins'] }), noopStep('cni.bridge-config', { provides: ['cni'] })]);
const cilium = (kind: 'user' | 'linked' = 'user') => loaded('@org/plugin-cilium', kind, [noopStep('cilium.node', { provides: ['cni'] })]);

describe('capability resolution', () => {
  it('keeps the only provider of a capability', () => {
    const r = resolvePlugins([bundledCni()]);
    expect(r.capabilities.find((c) => c.capability === 'cni')).to.include({ provider: '@flexnode/plugin-cni', reason: 'only provider' });
    expect(r.steps.map((s) => s.definition.id)).to.deep.equal(['cni.plugins', 'cni.bridge-config']);
  });

  it('lets a user-installed plugin win over the bundled one, replacing only the steps of that capability', () => {
    const r = resolvePlugins([bundledCni(), cilium()]);
    expect(r.capabilities.find((c) => c.capability === 'cni')).to.include({ provider: '@org/plugin-cilium', reason: 'installed plugin over bundled' });
    expect(r.steps.map((s) => s.definition.id)).to.deep.equal(['cni.plugins', 'cilium.node']);
    expect(r.skipped).to.have.length(1);
    expect(r.skipped[0]).to.deep.include({ reason: '"cni" is provided by @org/plugin-cilium' });
  });

  it('follows the config choice over the installed plugin', () => {
    const config = testConfig({ plugins: { cni: '@flexnode/plugin-cni' } });
    const r = resolvePlugins([bundledCni(), cilium()], config);
    expect(r.capabilities.find((c) => c.capability === 'cni')).to.include({ provider: '@flexnode/plugin-cni', reason: 'chosen in the config' });
    expect(r.steps.map((s) => s.definition.id)).to.include('cni.bridge-config').and.not.include('cilium.node');
  });

  it('refuses a config choice that does not provide the capability, naming the candidates', () => {
    const config = testConfig({ plugins: { cni: '@org/plugin-calico' } });
    expect(() => resolvePlugins([bundledCni(), cilium()], config))
      .to.throw(/plugins\.cni is "@org\/plugin-calico".*providers: @flexnode\/plugin-cni, @org\/plugin-cilium/)
      .with.property('exitCode', 2);
  });

  it('refuses two installed providers without a choice, naming both', () => {
    const other = loaded('@org/plugin-calico', 'linked', [noopStep('calico.node', { provides: ['cni'] })]);
    expect(() => resolvePlugins([bundledCni(), cilium(), other])).to.throw(/"cni" is provided by .*plugin-cilium and @org\/plugin-calico/);
  });

  it('leaves out a plugin that reuses another plugin\'s step id, and keeps the rest', () => {
    const thief = loaded('@org/plugin-thief', 'user', [noopStep('cni.plugins')]);
    const r = resolvePlugins([thief, bundledCni()]);
    expect(r.problems).to.deep.equal([{ plugin: '@org/plugin-thief', root: '/plugins/@org/plugin-thief', reason: 'its step id "cni.plugins" is already declared by @flexnode/plugin-cni' }]);
    expect(r.steps.map((s) => s.plugin.name)).to.deep.equal(['@flexnode/plugin-cni', '@flexnode/plugin-cni']);
  });

  it('skips a step whose when() rejects the config, with its reason', () => {
    const p = loaded('@flexnode/plugin-x', 'bundled', [noopStep('x.apt', { when: (c) => c.containerd?.source === 'apt' || 'containerd.source is not apt' })]);
    const r = resolvePlugins([p], testConfig());
    expect(r.steps).to.have.length(0);
    expect(r.skipped[0]!.reason).to.equal('containerd.source is not apt');
  });
});
