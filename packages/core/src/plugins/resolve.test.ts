import { Cni, defineService, type CniService } from '@flexnode/sdk';
import { testConfig } from '@flexnode/sdk/testing';
import { expect } from 'chai';
import { resolvePlugins } from './resolve.js';
import { loaded, noopStep } from './test-plugins.fixture.js';

const bundledCni = () =>
  loaded('@flexnode/plugin-cni', 'bundled', [noopStep('cni.plugins', { provides: ['cni-plugins'] }), noopStep('cni.bridge-config', { provides: ['cni'] })]);
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
    expect(r.steps.map((s) => s.definition.id))
      .to.include('cni.bridge-config')
      .and.not.include('cilium.node');
  });

  it('a config choice that is not a provider keeps the default choice (config-choices reports the issue)', () => {
    const config = testConfig({ plugins: { cni: '@org/plugin-calico' } });
    const r = resolvePlugins([bundledCni(), cilium()], config);
    expect(r.capabilities.find((c) => c.capability === 'cni')).to.include({ provider: '@org/plugin-cilium', reason: 'installed plugin over bundled' });
    expect(r.problems).to.deep.equal([]);
  });

  it('leaves out two installed providers the config does not choose between, naming both; the bundled one keeps it', () => {
    const other = loaded('@org/plugin-calico', 'linked', [noopStep('calico.node', { provides: ['cni'] })]);
    const r = resolvePlugins([bundledCni(), cilium(), other]);
    expect(r.problems.map((p) => p.plugin)).to.deep.equal(['@org/plugin-cilium', '@org/plugin-calico']);
    expect(r.problems[0]!.reason).to.equal('it provides "cni", as @org/plugin-calico does, and the config chooses none of them');
    expect(r.problems[0]!.fix).to.equal('choose one in the config: "plugins": {"cni": "@org/plugin-cilium"}, or uninstall the others');
    expect(r.capabilities.find((c) => c.capability === 'cni')).to.include({ provider: '@flexnode/plugin-cni', reason: 'only provider' });
    expect(r.steps.map((s) => s.definition.id)).to.deep.equal(['cni.plugins', 'cni.bridge-config']);

    const chosen = resolvePlugins([bundledCni(), cilium(), other], testConfig({ plugins: { cni: '@org/plugin-calico' } }));
    expect(chosen.problems).to.deep.equal([]);
    expect(chosen.steps.map((s) => s.definition.id)).to.deep.equal(['cni.plugins', 'calico.node']);
  });

  it("leaves out a provider that offers no service where the capability's other providers do; the bundled one keeps it", () => {
    const service = defineService({ capability: Cni, create: (): CniService => ({ binDir: '/opt/cni/bin', confDir: '/etc/cni/net.d' }) as CniService });
    const withService = <T extends ReturnType<typeof bundledCni>>(p: T): T => ({ ...p, definition: { ...p.definition, services: [service] } });
    // Nothing injects the service: a provider without one is as good as any.
    expect(resolvePlugins([withService(bundledCni()), cilium()]).problems).to.deep.equal([]);
    const consumer = loaded('@flexnode/plugin-containerd', 'bundled', [noopStep('containerd.config', { inject: { cni: Cni } })]);
    const r = resolvePlugins([withService(bundledCni()), cilium(), consumer]);
    expect(r.problems).to.have.length(1);
    expect(r.problems[0]).to.deep.include({
      plugin: '@org/plugin-cilium',
      reason: 'provides "cni" but offers no "cni" service, which other plugins\' steps inject (as @flexnode/plugin-cni does)',
    });
    expect(r.capabilities.find((c) => c.capability === 'cni')).to.include({ provider: '@flexnode/plugin-cni' });
    expect(r.services.map((s) => s.plugin.name)).to.deep.equal(['@flexnode/plugin-cni']);
    // A consumer this config skips (its `when`) injects nothing.
    const skippedConsumer = loaded('@flexnode/plugin-containerd', 'bundled', [
      noopStep('containerd.config', { inject: { cni: Cni }, when: () => 'not for this config' }),
    ]);
    expect(resolvePlugins([withService(bundledCni()), cilium(), skippedConsumer], testConfig()).problems).to.deep.equal([]);
    // With its service, it wins as any installed provider does.
    const complete = resolvePlugins([withService(bundledCni()), withService(cilium()), consumer]);
    expect(complete.problems).to.deep.equal([]);
    expect(complete.capabilities.find((c) => c.capability === 'cni')).to.include({ provider: '@org/plugin-cilium' });
  });

  it('leaves out a plugin whose when() throws, naming the step, and resolves the rest', () => {
    const faulty = loaded('@org/plugin-faulty', 'user', [
      noopStep('faulty.step', {
        when: () => {
          throw new Error('config.faulty is undefined');
        },
      }),
    ]);
    const r = resolvePlugins([bundledCni(), faulty], testConfig());
    expect(r.problems).to.have.length(1);
    expect(r.problems[0]).to.deep.include({ plugin: '@org/plugin-faulty', reason: 'its step faulty.step: when() threw: config.faulty is undefined' });
    expect(r.steps.map((s) => s.definition.id)).to.deep.equal(['cni.plugins', 'cni.bridge-config']);
  });

  it("leaves out a plugin that reuses another plugin's step id, and keeps the rest", () => {
    const thief = loaded('@org/plugin-thief', 'user', [noopStep('cni.plugins')]);
    const r = resolvePlugins([thief, bundledCni()]);
    expect(r.problems).to.deep.equal([
      {
        plugin: '@org/plugin-thief',
        root: '/plugins/@org/plugin-thief',
        reason: 'its step id "cni.plugins" is already declared by @flexnode/plugin-cni',
        fix: 'update or remove one of them: flexnode plugins uninstall @org/plugin-thief',
      },
    ]);
    expect(r.steps.map((s) => s.plugin.name)).to.deep.equal(['@flexnode/plugin-cni', '@flexnode/plugin-cni']);
  });

  it('skips a step whose when() rejects the config, with its reason', () => {
    const p = loaded('@flexnode/plugin-x', 'bundled', [noopStep('x.apt', { when: (c) => c.containerd?.source === 'apt' || 'containerd.source is not apt' })]);
    const r = resolvePlugins([p], testConfig());
    expect(r.steps).to.have.length(0);
    expect(r.skipped[0]!.reason).to.equal('containerd.source is not apt');
  });
});
