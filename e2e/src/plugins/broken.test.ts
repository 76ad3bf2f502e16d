import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliEnv, flexnode, json, run, writePluginPackage, writeValidConfig } from './helpers.js';
import { startRegistry, type LocalRegistry } from './registry.js';

/** Broken third-party plugins, each wrong in one of the ways of issue 7's "Safety". */
const BROKEN = {
  importThrows: {
    name: '@test/plugin-import-throws',
    code: `throw new Error('boom at import');\n`,
    reason: /its module \.\/plugin\.js failed to load: boom at import/,
  },
  futureApi: {
    name: '@test/plugin-future-api',
    code: `export default { name: '@test/plugin-future-api', apiVersion: 99, steps: [] };\n`,
    reason: /built for plugin API version 99, this flexnode supports 1, 2/,
  },
  duplicate: {
    name: '@test/plugin-duplicate-step',
    code: `const Host = Symbol.for('flexnode.host');
export default {
  name: '@test/plugin-duplicate-step', apiVersion: 1,
  steps: [{ id: 'cni.plugins', title: 'a step id plugin-cni owns', inject: [Host],
    create: () => ({ check: async () => ({ status: 'ok' }), install: async () => {}, uninstall: async () => {} }) }],
};\n`,
    reason: /its step id "cni\.plugins" is already declared by @flexnode\/plugin-cni/,
  },
  createThrows: {
    name: '@test/plugin-create-throws',
    code: `const Host = Symbol.for('flexnode.host');
const fine = { id: 'broken.fine', title: 'a step that works', inject: [Host], create: (host) => ({
  check: async () => ((await host.files.readText('/etc/broken-fine')) === 'ok\\n' ? { status: 'ok' } : { status: 'missing', reason: 'absent' }),
  install: async () => { await host.files.write('/etc/broken-fine', 'ok\\n'); },
  uninstall: () => host.changes.revert(),
}) };
const broken = { id: 'broken.create', title: 'a step whose factory throws', inject: [Host], create: () => { throw new Error('boom in create'); } };
export default { name: '@test/plugin-create-throws', apiVersion: 1, steps: [fine, broken] };\n`,
  },
} as const;

/**
 * Broken plugins installed from a registry (import throws, unknown apiVersion, create throws) and linked (a step
 * id another plugin has): the CLI keeps working, names each one with its reason, and uninstalls them.
 */
describe('plugins: a broken plugin is named and left out, the others keep working', function () {
  this.timeout(120_000);
  let dir: string;
  let registry: LocalRegistry | undefined;
  let env: NodeJS.ProcessEnv;
  let config: string;
  let linked: string;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'flexnode-broken-'));
    try {
      registry = await startRegistry(join(dir, 'registry'));
    } catch (error) {
      console.log(`    SKIP: verdaccio could not start: ${(error as Error).message}`);
      this.skip();
    }
    const npmEnv = cliEnv({ npm_config_userconfig: registry!.npmrc, npm_config_cache: join(dir, 'npm-cache') });
    for (const plugin of [BROKEN.importThrows, BROKEN.futureApi, BROKEN.createThrows]) {
      const pkg = await writePluginPackage(join(dir, 'src', plugin.name), plugin.name, plugin.code);
      const published = await run('npm', ['publish', pkg, '--registry', registry!.url], { env: npmEnv, cwd: dir });
      expect(published.code, `npm publish ${plugin.name}: ${published.stderr}`).to.equal(0);
    }
    linked = await writePluginPackage(join(dir, 'linked', 'plugin-duplicate-step'), BROKEN.duplicate.name, BROKEN.duplicate.code);
    env = cliEnv({
      FLEXNODE_DATA_DIR: join(dir, 'data'),
      FLEXNODE_CACHE_DIR: join(dir, 'cache'),
      FLEXNODE_CONFIG_DIR: join(dir, 'config'),
      npm_config_userconfig: registry!.npmrc,
      npm_config_cache: join(dir, 'npm-cache'),
    });
    config = await writeValidConfig(join(dir, 'config.json'));
  });

  after(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses to install or link the ones flexnode would leave out, naming why, and rolls the install back', async () => {
    for (const plugin of [BROKEN.importThrows, BROKEN.futureApi]) {
      const install = await flexnode(['plugins', 'install', plugin.name], env);
      expect(install.code, `${plugin.name}: ${install.stdout}${install.stderr}`).to.equal(2);
      expect(install.stderr).to.contain(`${plugin.name} was not installed: flexnode would leave it out: `);
      expect(install.stderr).to.match(plugin.reason);
      expect(existsSync(join(dir, 'data/node_modules', plugin.name)), plugin.name).to.equal(false);
    }
    const link = await flexnode(['plugins', 'link', linked, '--no-install'], env);
    expect(link.code, link.stdout + link.stderr).to.equal(2);
    expect(link.stderr).to.match(BROKEN.duplicate.reason);
    expect(json(await flexnode(['plugins', '--json'], env), 'plugins --json')).to.deep.equal([]);
  });

  it('refuses a package with flexnode.plugin but no "oclif" field before npm installs it (oclif would refuse it after, leaving it behind)', async () => {
    const folder = await writePluginPackage(
      join(dir, 'local', 'plugin-no-oclif'),
      '@test/plugin-no-oclif',
      `export default { name: '@test/plugin-no-oclif', apiVersion: 2, steps: [] };\n`,
    );
    const pkg = JSON.parse(await readFile(join(folder, 'package.json'), 'utf8'));
    delete pkg.oclif;
    await writeFile(join(folder, 'package.json'), JSON.stringify(pkg));
    const install = await flexnode(['plugins', 'install', folder], env);
    expect(install.code, install.stdout + install.stderr).to.equal(2);
    expect(install.stderr).to.contain('but no "oclif" field').and.contain('add "oclif": {} to its package.json');
    expect(existsSync(join(dir, 'data/node_modules/@test/plugin-no-oclif'))).to.equal(false);
  });

  it('installs and links them with --force (a factory that throws is only found when the step is used)', async () => {
    for (const plugin of [BROKEN.importThrows, BROKEN.futureApi, BROKEN.createThrows]) {
      const install = await flexnode(['plugins', 'install', plugin.name, ...(plugin === BROKEN.createThrows ? [] : ['--force'])], env);
      expect(install.code, `${plugin.name}: ${install.stdout}${install.stderr}`).to.equal(0);
    }
    const link = await flexnode(['plugins', 'link', linked, '--no-install', '--force'], env);
    expect(link.code, link.stdout + link.stderr).to.equal(0);
  });

  it('`steps` exits 0, names each broken plugin with its reason, and keeps the bundled providers', async () => {
    const result = await flexnode(['steps', '--json', '--config', config], env);
    expect(result.code, result.stderr).to.equal(0);
    const view = json(result, 'steps --json');
    const reasons: Record<string, string> = Object.fromEntries(view.problems.map((p: { plugin: string; reason: string }) => [p.plugin, p.reason]));
    expect(Object.keys(reasons)).to.have.members([BROKEN.importThrows.name, BROKEN.futureApi.name, BROKEN.duplicate.name]);
    expect(reasons[BROKEN.importThrows.name]).to.match(BROKEN.importThrows.reason);
    expect(reasons[BROKEN.futureApi.name]).to.match(BROKEN.futureApi.reason);
    expect(reasons[BROKEN.duplicate.name]).to.match(BROKEN.duplicate.reason);
    const cni = view.capabilities.find((c: { capability: string }) => c.capability === 'cni');
    expect(cni).to.deep.include({ provider: '@flexnode/plugin-cni' });
    const owners = Object.fromEntries(view.steps.map((s: { id: string; plugin: string }) => [s.id, s.plugin]));
    expect(owners['cni.plugins']).to.equal('@flexnode/plugin-cni');
    expect(owners['containerd.service']).to.equal('@flexnode/plugin-containerd');
    // A factory runs only when a step is used: the plugin whose create throws loads and lists its steps.
    expect(owners['broken.create']).to.equal(BROKEN.createThrows.name);

    const human = await flexnode(['steps', '--config', config], env);
    expect(human.code).to.equal(0);
    expect(human.stdout).to.contain('Plugins left out:');
    for (const plugin of [BROKEN.importThrows, BROKEN.futureApi, BROKEN.duplicate]) expect(human.stdout).to.contain(`! ${plugin.name}: `);

    const version = await flexnode(['version', '--json'], env);
    expect(version.code).to.equal(0);
    // Every one `steps` names: the duplicate step id loads fine and is left out by resolution.
    expect(json(version, 'version --json').problems.map((p: { plugin: string }) => p.plugin)).to.include.members([
      BROKEN.importThrows.name,
      BROKEN.futureApi.name,
      BROKEN.duplicate.name,
    ]);
  });

  it('a step whose create throws fails alone, with the plugin named; plan and bootstrap go on with the rest', async () => {
    const root = join(dir, 'root');
    // The plan shows every step, and fails (exit 1) because bootstrap would fail at the one that cannot be created.
    const plan = await flexnode(['plan', '--json', '--only', `${BROKEN.createThrows.name},cni`, '--config', config, '--root', root], env);
    expect(plan.code, plan.stderr).to.equal(1);
    const planned = json(plan, 'plan --json');
    const byId = Object.fromEntries(planned.results.map((r: { id: string }) => [r.id, r]));
    expect(byId['broken.create']).to.deep.include({ outcome: 'failed', plugin: BROKEN.createThrows.name });
    expect(byId['broken.create'].error.code).to.equal('PLUGIN_CREATE_FAILED');
    expect(byId['broken.create'].error.phase).to.equal('create');
    expect(byId['broken.create'].error.message).to.equal(`step broken.create of plugin ${BROKEN.createThrows.name} could not be created: boom in create`);
    expect(byId['broken.create'].error.hint).to.contain(`flexnode plugins uninstall ${BROKEN.createThrows.name}`);
    for (const id of ['broken.fine', 'cni.plugins', 'cni.bridge-config']) expect(byId[id].error, id).to.equal(undefined);

    const human = await flexnode(['plan', '--only', BROKEN.createThrows.name, '--config', config, '--root', root], env);
    expect(human.code).to.equal(1);
    expect(human.stdout).to.match(/✗ broken\.create\s+failed in create \[@test\/plugin-create-throws\]/);
    expect(human.stderr).to.contain(`plugin ${BROKEN.importThrows.name} left out: `);
    expect(human.stdout).to.contain(`step broken.create of plugin ${BROKEN.createThrows.name} could not be created: boom in create`);

    const bootstrap = await flexnode(['bootstrap', '--json', '--only', BROKEN.createThrows.name, '--config', config, '--root', root], env);
    expect(bootstrap.code, bootstrap.stderr).to.equal(1);
    const report = json(bootstrap, 'bootstrap --json');
    const outcome = Object.fromEntries(report.results.map((r: { id: string; outcome: string }) => [r.id, r.outcome]));
    expect(outcome).to.deep.include({ 'broken.fine': 'installed', 'broken.create': 'failed' });
    expect(
      Object.entries(outcome)
        .filter(([, o]) => o === 'failed')
        .map(([id]) => id),
    ).to.deep.equal(['broken.create']);
    expect(await readFile(join(root, 'etc/broken-fine'), 'utf8')).to.equal('ok\n');
  });

  it('`plugins uninstall` removes each of them, and nothing is left out any more', async () => {
    for (const plugin of [BROKEN.importThrows, BROKEN.futureApi, BROKEN.createThrows, BROKEN.duplicate]) {
      const uninstall = await flexnode(['plugins', 'uninstall', plugin.name], env);
      expect(uninstall.code, `${plugin.name}: ${uninstall.stdout}${uninstall.stderr}`).to.equal(0);
    }
    for (const plugin of [BROKEN.importThrows, BROKEN.futureApi, BROKEN.createThrows]) {
      expect(existsSync(join(dir, 'data/node_modules', plugin.name)), plugin.name).to.equal(false);
    }
    expect(existsSync(linked), "a linked plugin's folder is the author's: unlinking leaves it").to.equal(true);
    const view = json(await flexnode(['steps', '--json', '--config', config], env), 'steps --json');
    expect(view.problems).to.deep.equal([]);
    expect(view.steps.map((s: { plugin: string }) => s.plugin)).to.not.include(BROKEN.createThrows.name);
  });
});
