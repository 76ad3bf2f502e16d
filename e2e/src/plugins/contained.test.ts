import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, cliEnv, flexnode, json, run, writePluginPackage, writeValidConfig } from './helpers.js';

const NAME = '@test/plugin-motd';
const HELLO = '@test/plugin-hello';

/** Another plugin, which works: its step writes /etc/hello-flexnode. */
const hello = `const Host = Symbol.for('flexnode.host');
export default { name: '${HELLO}', apiVersion: 2, steps: [{ id: 'hello.file', title: 'hello file', inject: { host: Host },
  create: ({ host }) => ({
    check: async () => ((await host.files.readText('/etc/hello-flexnode')) === 'hi\\n' ? { status: 'ok' } : { status: 'missing', reason: 'absent' }),
    install: async () => { await host.files.write('/etc/hello-flexnode', 'hi\\n'); },
    uninstall: () => host.changes.revert(),
  }) }] };
`;

/** The plugin's module: one step writing /etc/motd-flexnode; `after` is its dependencies (API 2, no SDK import). */
const motd = (after: string[]) => `const Host = Symbol.for('flexnode.host');
const Logger = Symbol.for('flexnode.logger');
export default { name: '${NAME}', apiVersion: 2, steps: [{
  id: 'motd.banner', title: 'login banner', after: ${JSON.stringify(after)}, inject: { host: Host, log: Logger },
  create: ({ host, log }) => ({
    check: async () => ((await host.files.readText('/etc/motd-flexnode')) === 'flexnode node\\n' ? { status: 'ok' } : { status: 'missing', reason: 'no banner' }),
    install: async () => { log.info('writing the banner'); await host.files.write('/etc/motd-flexnode', 'flexnode node\\n'); await host.changes.record('motd-written', { at: 'now' }); },
    uninstall: async () => { await host.changes.revert(); await host.changes.forget('motd-written'); },
  }) }] };
`;

/**
 * Issue 18's containment end to end with the built CLI: a plugin flexnode would leave out is refused (and rolled
 * back) unless --force; kept with --force it is named by `steps`, keeps `status` unhealthy, does not stop other
 * steps, and `unbootstrap` still undoes what its earlier, working version did (from the journal).
 */
describe('plugins: a plugin flexnode leaves out is refused, or contained with --force', function () {
  this.timeout(180_000);
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let config: string;
  let root: string;
  let working: string;
  let broken: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flexnode-contained-'));
    // No registry is reachable: local installs must not need one.
    env = cliEnv({
      FLEXNODE_DATA_DIR: join(dir, 'data'),
      FLEXNODE_CACHE_DIR: join(dir, 'cache'),
      FLEXNODE_CONFIG_DIR: join(dir, 'config'),
      npm_config_registry: 'http://127.0.0.1:9/',
      npm_config_cache: join(dir, 'npm-cache'),
    });
    config = await writeValidConfig(join(dir, 'config.json'));
    root = join(dir, 'root');
    working = await writePluginPackage(join(dir, 'src/motd-1'), NAME, motd([]), '1.0.0');
    broken = await writePluginPackage(join(dir, 'src/motd-2'), NAME, motd(['gpu-driver']), '2.0.0');
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const stepsView = async () => {
    const r = await flexnode(['steps', '--json', '--config', config], env);
    expect(r.code, r.stderr).to.equal(0);
    return json(r, 'steps --json');
  };

  it('installs the working version from a folder, another plugin from a tarball (./x.tgz), and bootstraps them', async () => {
    const install = await flexnode(['plugins', 'install', working, '--json'], env);
    expect(install.code, install.stdout + install.stderr).to.equal(0);
    expect(json(install, 'plugins install --json').installed).to.deep.equal([
      { name: NAME, version: '1.0.0', from: `file:${working}`, root: join(dir, 'data/node_modules', NAME) },
    ]);
    const packed = await run('npm', ['pack', await writePluginPackage(join(dir, 'src/hello'), HELLO, hello), '--pack-destination', dir, '--json'], {
      cwd: dir,
      env,
    });
    expect(packed.code, packed.stderr).to.equal(0);
    const tarball = (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename;
    const relative = await run(process.execPath, [CLI, 'plugins', 'install', `./${tarball}`], { cwd: dir, env });
    expect(relative.code, relative.stdout + relative.stderr).to.equal(0);
    const boot = await flexnode(['bootstrap', '--json', '--only', `${NAME},${HELLO}`, '--config', config, '--root', root], env);
    expect(boot.code, boot.stdout + boot.stderr).to.equal(0);
    expect(await readFile(join(root, 'etc/motd-flexnode'), 'utf8')).to.equal('flexnode node\n');
    expect(await readFile(join(root, 'etc/hello-flexnode'), 'utf8')).to.equal('hi\n');
  });

  it('refuses the version with an unmet dependency: exit 2, reason and fix, and the working version is put back', async () => {
    const install = await flexnode(['plugins', 'install', broken], env);
    expect(install.code, install.stdout + install.stderr).to.equal(2);
    expect(install.stderr).to.contain(
      `${NAME} was not installed: flexnode would leave it out: step motd.banner needs "gpu-driver", which no step or plugin provides`,
    );
    expect(install.stderr).to.contain('--force');
    const pkg = JSON.parse(await readFile(join(dir, 'data/node_modules', NAME, 'package.json'), 'utf8'));
    expect(pkg.version, 'the earlier install is restored').to.equal('1.0.0');
    expect((await stepsView()).problems).to.deep.equal([]);
  });

  it('with --force keeps it: steps names it as left out, status is unhealthy, other steps still run', async () => {
    const install = await flexnode(['plugins', 'install', broken, '--force', '--json'], env);
    expect(install.code, install.stdout + install.stderr).to.equal(0);
    const [entry] = json(install, 'plugins install --json').installed;
    expect(entry).to.deep.include({ name: NAME, version: '2.0.0' });
    expect(entry.leftOut[0].reason).to.equal('step motd.banner needs "gpu-driver", which no step or plugin provides');

    const view = await stepsView();
    expect(view.problems.map((p: { plugin: string }) => p.plugin)).to.deep.equal([NAME]);
    expect(view.steps.map((s: { id: string }) => s.id)).to.not.include('motd.banner');
    const human = await flexnode(['steps', '--config', config], env);
    expect(human.stdout).to.match(/Plugins left out:\n\s+! @test\/plugin-motd: step motd\.banner needs "gpu-driver"/);

    const list = json(await flexnode(['plugins', '--json'], env), 'plugins --json');
    expect(list.find((p: { name: string }) => p.name === NAME)).to.deep.include({ version: '2.0.0', type: 'user', leftOut: view.problems[0].reason });

    // Every check that runs passes: the left-out plugin alone makes the node unhealthy.
    const status = await flexnode(['status', '--json', '--only', HELLO, '--config', config, '--root', root], env);
    expect(status.code, status.stderr).to.equal(1);
    const report = json(status, 'status --json');
    expect(report.results.map((r: { id: string; outcome: string }) => `${r.id}:${r.outcome}`)).to.deep.equal(['kube.preflight:healthy', 'hello.file:healthy']);
    expect(report.healthy).to.equal(false);
    expect(report.problems.map((p: { plugin: string }) => p.plugin)).to.deep.equal([NAME]);
    const shown = await flexnode(['status', '--only', HELLO, '--config', config, '--root', root], env);
    expect(shown.stdout).to.contain(`! plugin ${NAME} is left out: step motd.banner needs "gpu-driver"`).and.contain('status: NOT healthy');

    // Another plugin's bootstrap is not stopped by it, and does not undo what the left-out plugin did.
    const other = await flexnode(['bootstrap', '--json', '--config', config, '--root', root, '--only', HELLO], env);
    expect(other.code, other.stdout + other.stderr).to.equal(0);
    expect(json(other, 'bootstrap --json').removed).to.deep.equal([]);
    expect(existsSync(join(root, 'etc/motd-flexnode'))).to.equal(true);
  });

  it("unbootstrap exits 0 and undoes the left-out plugin's work from the journal, noting its dropped record", async () => {
    const undo = await flexnode(['unbootstrap', '--json', '--config', config, '--root', root], env);
    expect(undo.code, undo.stdout + undo.stderr).to.equal(0);
    const report = json(undo, 'unbootstrap --json');
    const motd = report.results.find((r: { id: string }) => r.id === 'motd.banner');
    expect(motd).to.deep.include({ outcome: 'removed', plugin: NAME });
    expect(motd.notes).to.deep.equal([
      `${NAME}'s "motd-written" journal record cannot be undone without the plugin's code: dropped; check by hand what it stood for`,
    ]);
    expect(existsSync(join(root, 'etc/motd-flexnode'))).to.equal(false);
    expect(existsSync(join(root, 'etc/hello-flexnode'))).to.equal(false);
    expect(existsSync(join(root, 'var/lib/flexnode'))).to.equal(false);
  });

  it('plugins uninstall --json removes it; nothing is left out any more', async () => {
    const r = await flexnode(['plugins', 'uninstall', NAME, '--json'], env);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(json(r, 'plugins uninstall --json')).to.deep.equal({ uninstalled: [{ name: NAME, type: 'user' }] });
    expect((await flexnode(['plugins', 'uninstall', HELLO], env)).code).to.equal(0);
    expect((await stepsView()).problems).to.deep.equal([]);
    const again = await flexnode(['plugins', 'uninstall', NAME, '--json'], env);
    expect(again.code).to.equal(2);
    expect(json(again, 'plugins uninstall --json').error.code).to.equal('PLUGIN_NOT_INSTALLED');
  });

  it('link refuses a folder flexnode would leave out (exit 2, no link left), and --force keeps the link', async () => {
    const link = await flexnode(['plugins', 'link', broken, '--no-install', '--json'], env);
    expect(link.code, link.stdout + link.stderr).to.equal(2);
    expect(json(link, 'plugins link --json').error.code).to.equal('PLUGIN_LEFT_OUT');
    expect(json(await flexnode(['plugins', '--json'], env), 'plugins --json')).to.deep.equal([]);
    const forced = await flexnode(['plugins', 'link', broken, '--no-install', '--force', '--json'], env);
    expect(forced.code, forced.stdout + forced.stderr).to.equal(0);
    expect(json(forced, 'plugins link --json').linked).to.deep.include({ name: NAME, version: '2.0.0', root: broken });
    const unlink = await flexnode(['plugins', 'uninstall', NAME, '--json'], env);
    expect(json(unlink, 'plugins uninstall --json')).to.deep.equal({ uninstalled: [{ name: NAME, type: 'link' }] });
    expect(existsSync(broken), "a linked folder is the author's: unlinking leaves it").to.equal(true);
    // plugins reset removes every installed and linked plugin, and says which in JSON.
    expect((await flexnode(['plugins', 'link', working, '--no-install'], env)).code).to.equal(0);
    const reset = await flexnode(['plugins', 'reset', '--json'], env);
    expect(reset.code, reset.stdout + reset.stderr).to.equal(0);
    expect(json(reset, 'plugins reset --json')).to.deep.equal({ removed: [{ name: NAME, type: 'link' }], reinstalled: [] });
    expect(json(await flexnode(['plugins', '--json'], env), 'plugins --json')).to.deep.equal([]);
  });
});
