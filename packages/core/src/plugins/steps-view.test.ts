import { API_VERSION, ContainerRuntime, defineStep, ok, Tokens } from '@flexnode/sdk';
import { testConfig } from '@flexnode/sdk/testing';
import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePlugins } from './resolve.js';
import { resolveDiscovered, resolveSteps } from './steps-view.js';
import { loaded, noopStep } from './test-plugins.fixture.js';
import type { LoadedPlugin } from './types.js';

/** A plugin package on disk whose module is `code` (the way installed plugins are found). */
async function pluginDir(dir: string, name: string, code: string) {
  const root = join(dir, name.replace(/[@/]/g, '_'));
  await mkdir(root, { recursive: true });
  await writeFile(join(root, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', flexnode: { plugin: './plugin.js' } }));
  await writeFile(join(root, 'plugin.js'), code);
  return { name, version: '1.0.0', root, kind: 'user' as const };
}

const SDK = import.meta.resolve('@flexnode/sdk');
const resolveLoaded = (plugins: LoadedPlugin[], config = testConfig()) => resolveDiscovered({ plugins, problems: [] }, config);
const noop = `({ check: async () => ({ status: 'ok' }), install: async () => {}, uninstall: async () => {} })`;

describe('resolving steps: broken plugins are contained', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'flexnode-view-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('leaves out a plugin whose step needs a capability nobody provides, names why and the fix; the rest resolve', async () => {
    const good = await pluginDir(
      dir,
      '@test/good',
      `export default { name: '@test/good', apiVersion: ${API_VERSION}, steps: [{ id: 'good.step', title: 'g', create: () => ${noop} }] };`,
    );
    const gpu = await pluginDir(
      dir,
      '@test/gpu',
      `export default { name: '@test/gpu', apiVersion: ${API_VERSION}, steps: [
      { id: 'gpu.toolkit', title: 'g', after: ['gpu-driver'], create: () => ${noop} },
      { id: 'gpu.other', title: 'o', create: () => ${noop} }] };`,
    );
    const view = await resolveSteps([good, gpu], testConfig());
    expect(view.graph.order.map((s) => s.id)).to.deep.equal(['good.step']);
    const problem = view.resolution.problems.find((p) => p.plugin === '@test/gpu');
    expect(problem?.reason).to.equal('step gpu.toolkit needs "gpu-driver", which no step or plugin provides');
    expect(problem?.fix).to.match(/flexnode plugins uninstall @test\/gpu/);
  });

  it('leaves out, in turn, a plugin that depended on the one left out', async () => {
    const a = await pluginDir(
      dir,
      '@test/a',
      `export default { name: '@test/a', apiVersion: ${API_VERSION}, steps: [{ id: 'a.step', title: 'a', provides: ['thing'], after: ['nothing-provides-this'], create: () => ${noop} }] };`,
    );
    const b = await pluginDir(
      dir,
      '@test/b',
      `export default { name: '@test/b', apiVersion: ${API_VERSION}, steps: [{ id: 'b.step', title: 'b', after: ['thing'], create: () => ${noop} }] };`,
    );
    const view = await resolveSteps([a, b], testConfig());
    expect(view.graph.order).to.deep.equal([]);
    expect(view.resolution.problems.map((p) => p.plugin)).to.deep.equal(['@test/a', '@test/b']);
    expect(view.resolution.problems[1]!.reason).to.match(/step b\.step needs "thing"/);
  });

  it('a plugin of API version 1 still runs, with a deprecation warning naming its positional injections', async () => {
    const old = await pluginDir(
      dir,
      '@test/old',
      `import { Tokens } from '${SDK}';
      export default { name: '@test/old', apiVersion: 1, steps: [{ id: 'old.step', title: 'o', inject: [Tokens.Host], create: (host) => ${noop} }] };`,
    );
    const view = await resolveSteps([old], testConfig());
    expect(view.graph.order.map((s) => s.id)).to.deep.equal(['old.step']);
    expect(view.resolution.problems).to.deep.equal([]);
    const messages = view.resolution.warnings.map((w) => `${w.plugin}: ${w.message}`);
    expect(messages).to.have.length(2);
    expect(messages[0]).to.match(/^@test\/old: built for plugin API version 1 \(deprecated/);
    expect(messages[1]).to.match(/positional form of inject \(step old\.step\)/);
  });

  it('refuses a plugin whose provides holds something that is neither a name nor a capability token', async () => {
    const bad = await pluginDir(
      dir,
      '@test/bad',
      `export default { name: '@test/bad', apiVersion: ${API_VERSION}, steps: [{ id: 'bad.step', title: 'b', provides: [42], create: () => ${noop} }] };`,
    );
    const view = await resolveSteps([bad], testConfig());
    expect(view.resolution.problems[0]?.reason).to.match(/step bad\.step: provides must list step ids or capabilities/);
  });
});

describe('resolving steps: a provider is all of its steps', () => {
  const runtimeStep = (id: string) => noopStep(id, { provides: [ContainerRuntime] });
  const containerd = () =>
    loaded('@flexnode/plugin-containerd', 'bundled', [runtimeStep('runc.binary'), runtimeStep('containerd.config'), runtimeStep('containerd.service')]);
  const crio = () => loaded('@org/plugin-crio', 'user', [runtimeStep('crio.packages'), runtimeStep('crio.service')]);

  it('choosing another container runtime drops every step of the bundled one, not just its service', () => {
    const r = resolvePlugins([containerd(), crio()], testConfig());
    expect(r.steps.map((s) => s.definition.id)).to.deep.equal(['crio.packages', 'crio.service']);
    expect(r.skipped.map((s) => s.definition.id)).to.deep.equal(['runc.binary', 'containerd.config', 'containerd.service']);
    expect(new Set(r.skipped.map((s) => s.reason))).to.deep.equal(new Set(['"container-runtime" is provided by @org/plugin-crio']));
  });

  it('the config can choose the bundled one back; then the other provider is dropped whole', () => {
    const r = resolvePlugins([containerd(), crio()], testConfig({ plugins: { 'container-runtime': '@flexnode/plugin-containerd' } }));
    expect(r.steps.map((s) => s.definition.id)).to.deep.equal(['runc.binary', 'containerd.config', 'containerd.service']);
  });

  it('a typed capability and its name are the same capability', () => {
    const byName = loaded('@org/plugin-byname', 'user', [noopStep('byname.step', { provides: ['container-runtime'] })]);
    const r = resolvePlugins([containerd(), byName], testConfig());
    expect(r.capabilities.find((c) => c.capability === 'container-runtime')?.provider).to.equal('@org/plugin-byname');
  });

  it('defineStep keeps the typed tokens for the graph to name', () => {
    const s = defineStep({
      id: 'x.y',
      title: 't',
      provides: [ContainerRuntime],
      inject: { host: Tokens.Host },
      create: () => ({ check: async () => ok(), install: async () => {}, uninstall: async () => {} }),
    });
    expect(s.provides).to.deep.equal([Symbol.for('flexnode.capability.container-runtime')]);
  });
});

describe("resolving steps: cycles and the config's plugin choices", () => {
  it('leaves out an installed plugin whose steps close a dependency cycle; the bundled provider takes over again', () => {
    const cni = loaded('@flexnode/plugin-cni', 'bundled', [noopStep('cni.bridge', { provides: ['cni'] })]);
    const kube = loaded('@flexnode/plugin-kube', 'bundled', [noopStep('kubelet.service', { after: ['cni'] })]);
    const loop = loaded('@org/plugin-loop', 'user', [noopStep('loop.cni', { provides: ['cni'], after: ['kubelet.service'] })]);
    const view = resolveLoaded([cni, kube, loop], testConfig());
    expect(view.resolution.problems.map((p) => p.plugin)).to.deep.equal(['@org/plugin-loop']);
    expect(view.resolution.problems[0]!.reason).to.match(/^its steps close a dependency cycle: (kubelet\.service|loop\.cni) → .+ → \1$/);
    expect(view.resolution.problems[0]!.fix).to.contain('flexnode plugins uninstall @org/plugin-loop');
    expect(view.graph.order.map((s) => s.id)).to.deep.equal(['cni.bridge', 'kubelet.service']);
  });

  it("a cycle among bundled steps alone is flexnode's own bug: it is thrown", () => {
    const a = loaded('@flexnode/plugin-a', 'bundled', [noopStep('a.one', { after: ['a.two'] }), noopStep('a.two', { after: ['a.one'] })]);
    expect(() => resolveLoaded([a], testConfig()))
      .to.throw(/cycle/)
      .with.property('code', 'GRAPH_CYCLE');
  });

  it('names each wrong choice of the plugins map with a did-you-mean, and resolves as if it were not there', async () => {
    const config = testConfig({ plugins: { cnii: '@org/plugin-cilium', 'container-runtime': '@org/plugin-crun', cni: '@org/plugin-cilum' } });
    const cni = loaded('@flexnode/plugin-cni', 'bundled', [noopStep('cni.bridge', { provides: ['cni'] })]);
    const cilium = loaded('@org/plugin-cilium', 'user', [noopStep('cilium.node', { provides: ['cni'] })]);
    const runtime = loaded('@flexnode/plugin-containerd', 'bundled', [noopStep('containerd.service', { provides: ['container-runtime'] })]);
    const view = resolveLoaded([cni, cilium, runtime], config);
    expect(view.resolution.configIssues).to.deep.equal([
      { path: 'plugins.cnii', message: '"cnii" is not a capability any plugin provides; did you mean "cni"? (capabilities: cni, container-runtime)' },
      {
        path: 'plugins.container-runtime',
        message: '"@org/plugin-crun" is not an installed plugin (providers of "container-runtime": @flexnode/plugin-containerd)',
      },
      {
        path: 'plugins.cni',
        message:
          '"@org/plugin-cilum" is not an installed plugin; did you mean "@org/plugin-cilium"? (providers of "cni": @flexnode/plugin-cni, @org/plugin-cilium)',
      },
    ]);
    expect(view.graph.order.map((s) => s.id)).to.include('cilium.node');
  });

  it('warns of a pluginConfig section for no installed plugin (a misspelt name), with a did-you-mean; sections of plugins there are pass', () => {
    const cni = loaded('@flexnode/plugin-cni', 'bundled', [noopStep('cni.bridge', { provides: ['cni'] })]);
    const config = testConfig({ pluginConfig: { '@flexnode/plugin-cnii': { a: 1 }, '@flexnode/plugin-cni': {}, '@org/elsewhere': {} } });
    expect(resolveLoaded([cni], config).resolution.warnings).to.deep.equal([
      {
        plugin: '@flexnode/plugin-cnii',
        message: 'pluginConfig["@flexnode/plugin-cnii"] is for no installed plugin, so its settings are not read; did you mean "@flexnode/plugin-cni"?',
      },
      { plugin: '@org/elsewhere', message: 'pluginConfig["@org/elsewhere"] is for no installed plugin, so its settings are not read' },
    ]);
  });
});
