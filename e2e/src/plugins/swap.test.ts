import { expect } from 'chai';
import { API_VERSION } from '@flexnode/sdk';
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliEnv, flexnode, json, REPO, run, writeValidConfig, type Run } from './helpers.js';
import { startRegistry, type LocalRegistry } from './registry.js';

/**
 * The swap of issue 7 end to end: a real npm registry (verdaccio on 127.0.0.1, no uplinks) serves @flexnode/sdk
 * and @org/plugin-cilium as published from this repo; the built CLI installs the plugin from it into the data dir
 * named by FLEXNODE_DATA_DIR, uses it for `cni`, and gives `cni` back to the bundled plugin-cni when it is
 * uninstalled.
 */
describe('plugins: swap the CNI by installing @org/plugin-cilium from a registry', function () {
  this.timeout(120_000);
  let dir: string;
  let registry: LocalRegistry | undefined;
  let env: NodeJS.ProcessEnv;
  let data: string;
  let config: string;
  let root: string;
  const BRIDGE = '/etc/cni/net.d/99-bridge.conflist';

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'flexnode-plugins-'));
    try {
      registry = await startRegistry(join(dir, 'registry'));
    } catch (error) {
      console.log(`    SKIP: verdaccio could not start: ${(error as Error).message}`);
      this.skip();
    }
    const npmEnv = cliEnv({ npm_config_userconfig: registry!.npmrc, npm_config_cache: join(dir, 'npm-cache') });
    for (const pkg of ['packages/sdk', 'examples/plugin-cilium']) {
      const packed = await run('npm', ['pack', join(REPO, pkg), '--pack-destination', dir, '--json'], { env: npmEnv, cwd: dir });
      expect(packed.code, `npm pack ${pkg}: ${packed.stderr}`).to.equal(0);
      const [{ filename }] = JSON.parse(packed.stdout) as { filename: string }[];
      const published = await run('npm', ['publish', join(dir, filename!), '--registry', registry!.url], { env: npmEnv, cwd: dir });
      expect(published.code, `npm publish ${filename}: ${published.stderr}`).to.equal(0);
    }
    data = join(dir, 'data');
    env = cliEnv({
      FLEXNODE_DATA_DIR: data,
      FLEXNODE_CACHE_DIR: join(dir, 'cache'),
      FLEXNODE_CONFIG_DIR: join(dir, 'config'),
      npm_config_userconfig: registry!.npmrc,
      npm_config_cache: join(dir, 'npm-cache'),
    });
    config = await writeValidConfig(join(dir, 'config.json'));
    // A node bootstrapped with the bundled CNI: its bridge config and loopback binary are there.
    root = join(dir, 'root');
    await mkdir(join(root, 'etc/cni/net.d'), { recursive: true });
    await mkdir(join(root, 'opt/cni/bin'), { recursive: true });
    await writeFile(join(root, BRIDGE), '{"cniVersion":"1.0.0","name":"flexnode-bridge","plugins":[]}\n');
    await writeFile(join(root, 'opt/cni/bin/loopback'), 'ELF', { mode: 0o755 });
  });

  after(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const steps = async (extraEnv = env) => {
    const result = await flexnode(['steps', '--json', '--config', config], extraEnv);
    expect(result.code, result.stderr).to.equal(0);
    return json<{
      capabilities: { capability: string; provider: string; reason: string; candidates: string[] }[];
      steps: { id: string; plugin: string }[];
      skipped: { id: string; plugin: string; reason: string }[];
      problems: { plugin: string; reason: string }[];
    }>(result, 'steps --json');
  };
  const cni = (view: Awaited<ReturnType<typeof steps>>) => view.capabilities.find((c) => c.capability === 'cni');
  let install: Run;

  it('installs the plugin from the registry, saying what it installs', async () => {
    install = await flexnode(['plugins', 'install', '@org/plugin-cilium'], env);
    const output = install.stdout + install.stderr;
    expect(install.code, output).to.equal(0);
    expect(output).to.contain('@org/plugin-cilium');
    expect(output).to.contain('installed v0.1.0');
    const manifest = JSON.parse(await readFile(join(data, 'node_modules/@org/plugin-cilium/package.json'), 'utf8'));
    expect(manifest).to.include({ name: '@org/plugin-cilium', version: '0.1.0' });
  });

  it('gives the installed plugin its own copy of @flexnode/sdk, fetched from the registry', async () => {
    const pluginRoot = join(data, 'node_modules/@org/plugin-cilium');
    const sdk = realpathSync(createRequire(join(pluginRoot, 'package.json')).resolve('@flexnode/sdk'));
    expect(sdk.startsWith(realpathSync(data) + '/'), sdk).to.equal(true);
    expect(sdk.startsWith(REPO), `the plugin must not use the CLI's SDK: ${sdk}`).to.equal(false);
    const lock = JSON.parse(await readFile(join(data, 'package-lock.json'), 'utf8'));
    const entry = Object.entries(lock.packages as Record<string, { version: string; resolved?: string }>).find(([path]) =>
      path.endsWith('node_modules/@flexnode/sdk'),
    );
    expect(entry, 'package-lock.json of the data dir has @flexnode/sdk').to.not.equal(undefined);
    expect(entry![1].version).to.equal('0.1.0');
    expect(entry![1].resolved ?? '').to.match(new RegExp(`^${registry!.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('prints the exact version and the registry URL it installs from', async function () {
    // That line comes from the CLI's `plugins:preinstall` hook (plugin-plugins itself prints only the name).
    const cli = JSON.parse(await readFile(join(REPO, 'packages/cli/package.json'), 'utf8'));
    if (!cli.oclif?.hooks?.['plugins:preinstall']) {
      console.log('    SKIP: packages/cli declares no plugins:preinstall hook yet');
      this.skip();
    }
    const output = install.stdout + install.stderr;
    expect(output).to.contain(`@org/plugin-cilium@0.1.0 from ${registry!.url}`);
  });

  it('lets `steps` show cni provided by @org/plugin-cilium, installed over bundled, loopback kept', async () => {
    const view = await steps();
    expect(cni(view)).to.deep.include({ provider: '@org/plugin-cilium', reason: 'installed plugin over bundled' });
    expect(cni(view)!.candidates).to.have.members(['@flexnode/plugin-cni', '@org/plugin-cilium']);
    const ids = view.steps.map((s) => s.id);
    expect(ids).to.include.members(['cilium.kernel', 'cilium.bpffs', 'cilium.sysctls', 'cilium.no-bridge-config', 'cni.plugins']);
    expect(ids.indexOf('cni.plugins')).to.be.lessThan(ids.indexOf('cilium.no-bridge-config'));
    expect(ids).to.not.include('cni.bridge-config');
    expect(view.skipped).to.deep.include({ id: 'cni.bridge-config', plugin: '@flexnode/plugin-cni', reason: '"cni" is provided by @org/plugin-cilium' });
    expect(view.problems).to.deep.equal([]);

    const human = await flexnode(['steps', '--config', config], env);
    expect(human.code).to.equal(0);
    expect(human.stdout).to.match(/cni\s+@org\/plugin-cilium\s+\(installed plugin over bundled; also offered by @flexnode\/plugin-cni\)/);
  });

  it('finds plugins through FLEXNODE_DATA_DIR: the same CLI without it does not see the plugin', async () => {
    const elsewhere = cliEnv({ ...env, FLEXNODE_DATA_DIR: undefined, XDG_DATA_HOME: join(dir, 'xdg-data'), HOME: join(dir, 'home') });
    expect(cni(await steps(elsewhere))).to.deep.include({ provider: '@flexnode/plugin-cni', reason: 'only provider' });
    const version = await flexnode(['version', '--json'], env);
    const plugin = json(version, 'version --json').plugins.find((p: { name: string }) => p.name === '@org/plugin-cilium');
    expect(plugin).to.deep.include({ version: '0.1.0', source: 'user', flexnodePlugin: true, apiVersion: API_VERSION });
    expect(plugin.root.startsWith(data)).to.equal(true);
  });

  it('plans the Cilium steps and the removal of the bridge config, and no bridge config write', async () => {
    const result = await flexnode(['plan', '--json', '--only', 'cni', '--config', config, '--root', root], env);
    expect(result.code, result.stderr).to.equal(0);
    const plan = json<{
      results: { id: string; plugin: string; outcome: string; error?: unknown }[];
      changes: { step: string; action: string; target: string }[];
    }>(result, 'plan --json');
    const byId = Object.fromEntries(plan.results.map((r) => [r.id, r]));
    for (const id of ['cilium.kernel', 'cilium.bpffs', 'cilium.sysctls', 'cilium.no-bridge-config']) {
      expect(byId[id], id).to.deep.include({ plugin: '@org/plugin-cilium' });
      expect(byId[id]!.error, `${id}: ${JSON.stringify(byId[id]!.error)}`).to.equal(undefined);
    }
    expect(byId['cni.bridge-config']).to.equal(undefined);
    expect(plan.changes).to.deep.include({ step: 'cilium.no-bridge-config', action: 'remove', target: BRIDGE });
    expect(plan.changes.filter((c) => c.target === BRIDGE && c.action !== 'remove')).to.deep.equal([]);
    const changed = plan.changes.map((c) => `${c.step} ${c.action} ${c.target}`);
    expect(changed).to.include.members([
      'cilium.bpffs write /etc/systemd/system/flexnode-cilium-bpffs.service',
      'cilium.bpffs enable flexnode-cilium-bpffs.service',
      'cilium.sysctls write /etc/sysctl.d/99-zzz-flexnode-cilium.conf',
      'cilium.sysctls sysctl net.ipv4.conf.all.rp_filter',
      'cilium.sysctls sysctl net.ipv4.conf.default.rp_filter',
    ]);
    expect(changed.some((c) => c.startsWith('cilium.bpffs exec mount -t bpf bpffs '))).to.equal(true);
    // A dry run: the bridge config is still there.
    expect(existsSync(join(root, BRIDGE))).to.equal(true);
  });

  it('brings the bundled provider back when the plugin is uninstalled', async () => {
    const uninstall = await flexnode(['plugins', 'uninstall', '@org/plugin-cilium'], env);
    expect(uninstall.code, uninstall.stdout + uninstall.stderr).to.equal(0);
    expect(existsSync(join(data, 'node_modules/@org/plugin-cilium'))).to.equal(false);
    const view = await steps();
    expect(cni(view)).to.deep.include({ provider: '@flexnode/plugin-cni', reason: 'only provider' });
    expect(view.steps.map((s) => s.id))
      .to.include('cni.bridge-config')
      .and.not.include('cilium.bpffs');

    const result = await flexnode(['plan', '--json', '--only', 'cni', '--config', config, '--root', root], env);
    const plan = json<{ results: { id: string; plugin: string }[] }>(result, 'plan --json');
    expect(plan.results.map((r) => r.id)).to.include('cni.bridge-config');
    expect(plan.results.filter((r) => r.plugin === '@org/plugin-cilium')).to.deep.equal([]);
  });
});
