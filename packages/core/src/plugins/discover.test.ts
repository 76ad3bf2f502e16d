import { Tokens } from '@flexnode/sdk';
import { MemoryHost, testConfig } from '@flexnode/sdk/testing';
import { expect } from 'chai';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildContainer } from '../runtime/container.js';
import { nullLogger } from '../logging/index.js';
import { discoverPlugins } from './discover.js';
import { resolvePlugins } from './resolve.js';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));

/** Write a plugin package folder: package.json with the flexnode field, and its module. */
async function plugin(root: string, name: string, code: string, field: unknown = { plugin: './plugin.js' }) {
  await mkdir(root, { recursive: true });
  await writeFile(join(root, 'package.json'), JSON.stringify({ name, version: '0.0.1', type: 'module', flexnode: field }));
  await writeFile(join(root, 'plugin.js'), code);
}

describe('plugin discovery', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'flexnode-discover-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  it('loads a linked plugin that carries its own copies of @flexnode/sdk and tsyringe, and runs its step', async () => {
    const root = join(dir, 'plugin-linked');
    // Its own node_modules: a separate SDK copy and a separate tsyringe, as `npm install` in the plugin makes.
    await cp(join(repo, 'packages/sdk/package.json'), join(root, 'node_modules/@flexnode/sdk/package.json'));
    await cp(join(repo, 'packages/sdk/dist'), join(root, 'node_modules/@flexnode/sdk/dist'), { recursive: true });
    for (const dep of ['tsyringe', 'tslib']) {
      await cp(dirname(fileURLToPath(import.meta.resolve(`${dep}/package.json`))), join(root, 'node_modules', dep), { recursive: true });
    }
    await plugin(
      root,
      '@test/plugin-linked',
      `import { API_VERSION, Tokens, defineStep, definePlugin, ok, missing } from '@flexnode/sdk';
       import { container } from 'tsyringe';
       // The plugin uses its own tsyringe copy internally; core never sees it.
       container.register('greeting', { useValue: 'hello from a linked plugin' });
       export const sdkUrl = import.meta.resolve('@flexnode/sdk');
       export const tsyringeUrl = import.meta.resolve('tsyringe');
       const step = defineStep({
         id: 'linked.greeting', title: 'greeting file', inject: { host: Tokens.Host, config: Tokens.Config },
         create: ({ host, config }) => ({
           check: async () => (await host.files.readText('/etc/greeting')) ? ok() : missing('no greeting'),
           install: async () => { await host.files.write('/etc/greeting', container.resolve('greeting') + ' for ' + config.azure.arc.machineName); },
           uninstall: () => host.changes.revert(),
         }),
       });
       export default definePlugin({ name: '@test/plugin-linked', apiVersion: API_VERSION, steps: [step] });`,
    );
    const { plugins, problems } = await discoverPlugins([{ name: '@test/plugin-linked', version: '0.0.1', root, kind: 'linked' }]);
    expect(problems).to.deep.equal([]);
    const module = await import(join(root, 'plugin.js'));
    expect(module.sdkUrl).to.contain(`${root}/node_modules/@flexnode/sdk/`);
    expect(module.tsyringeUrl).to.contain(`${root}/node_modules/tsyringe/`);

    const host = new MemoryHost();
    const resolution = resolvePlugins(plugins, testConfig());
    const { resolveStep } = buildContainer({
      config: testConfig(),
      logger: nullLogger(),
      resolution,
      steps: resolution.steps,
      hostFor: (id) => host.forStep(id),
    });
    const step = resolveStep('linked.greeting');
    expect((await step.check()).status).to.equal('missing');
    await step.install();
    expect(host.files.get('/etc/greeting')?.content.toString()).to.equal('hello from a linked plugin for test-node');
    expect(Tokens.Host).to.equal(Symbol.for('flexnode.host'));
  });

  it('reports broken plugins by name and reason, and keeps the good ones', async () => {
    const good = join(dir, 'good');
    await plugin(good, '@test/good', `export default { name: '@test/good', apiVersion: 1, steps: [] };`);
    const throws = join(dir, 'throws');
    await plugin(throws, '@test/throws', `throw new Error('boom at import');`);
    const future = join(dir, 'future');
    await plugin(future, '@test/future', `export default { name: '@test/future', apiVersion: 99, steps: [] };`);
    const empty = join(dir, 'empty');
    await plugin(empty, '@test/empty', `export const x = 1;`);
    const escape = join(dir, 'escape');
    await plugin(escape, '@test/escape', ``, { plugin: '../good/plugin.js' });
    const plain = join(dir, 'plain');
    await mkdir(plain, { recursive: true });
    await writeFile(join(plain, 'package.json'), JSON.stringify({ name: '@oclif/plugin-plugins', version: '5.0.0' }));

    const source = (name: string, root: string) => ({ name, version: '0.0.1', root, kind: 'user' as const });
    const { plugins, problems } = await discoverPlugins([
      source('@test/good', good),
      source('@test/throws', throws),
      source('@test/future', future),
      source('@test/empty', empty),
      source('@test/escape', escape),
      source('@oclif/plugin-plugins', plain),
    ]);
    expect(plugins.map((p) => p.name)).to.deep.equal(['@test/good']);
    const reasons = Object.fromEntries(problems.map((p) => [p.plugin, p.reason]));
    expect(reasons['@test/throws']).to.match(/failed to load: boom at import/);
    expect(reasons['@test/future']).to.match(/plugin API version 99, this flexnode supports 1, 2/);
    expect(reasons['@test/empty']).to.match(/no default export/);
    expect(reasons['@test/escape']).to.match(/points outside the package/);
    expect(Object.keys(reasons)).to.not.include('@oclif/plugin-plugins');
  });
});
