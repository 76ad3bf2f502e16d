import { expect } from 'chai';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliEnv, flexnode, json, REPO, run } from './helpers.js';

const NEW_PLUGIN = join(REPO, 'scripts/new-plugin.mjs');
const TSC = join(REPO, 'node_modules/typescript/bin/tsc');
const MOCHA = join(REPO, 'node_modules/mocha/bin/mocha.js');

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else out.push(full);
  }
  return out;
}

/**
 * templates/plugin through scripts/new-plugin.mjs: the generated plugin builds with TypeScript, its mocha tests
 * (runStepCycle from @flexnode/sdk/testing) pass, and the CLI runs it when linked. @flexnode/sdk comes from the
 * packed SDK (what the registry would serve); the dev tools are the repository's.
 */
describe('plugins: the plugin template', function () {
  this.timeout(120_000);
  let dir: string;
  let plugin: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flexnode-template-'));
    plugin = join(dir, 'plugin-hello');
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('generates a plugin with its name filled in', async () => {
    const created = await run(process.execPath, [NEW_PLUGIN, plugin, '@acme/plugin-hello'], { cwd: dir });
    expect(created.code, created.stderr).to.equal(0);
    expect(created.stdout).to.contain('Created @acme/plugin-hello');
    const pkg = JSON.parse(await readFile(join(plugin, 'package.json'), 'utf8'));
    expect(pkg).to.deep.include({ name: '@acme/plugin-hello', version: '0.1.0', flexnode: { plugin: './dist/plugin.js' }, oclif: {} });
    expect(pkg.dependencies).to.deep.equal({ '@flexnode/sdk': '^0.1.0' });
    for (const file of await filesUnder(plugin)) expect(await readFile(file, 'utf8'), file).to.not.match(/__[A-Z_]+__/);
    expect(await readFile(join(plugin, 'src/plugin.ts'), 'utf8')).to.contain("id: 'hello.example'");
  });

  it('refuses an invalid package name and a folder that is not empty', async () => {
    const bad = await run(process.execPath, [NEW_PLUGIN, join(dir, 'x'), 'Not A Name'], { cwd: dir });
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain('is not a valid npm package name');
    const again = await run(process.execPath, [NEW_PLUGIN, plugin, '@acme/plugin-hello'], { cwd: dir });
    expect(again.code).to.equal(2);
    expect(again.stderr).to.contain('exists and is not empty');
  });

  it('builds and its tests pass', async () => {
    // @flexnode/sdk as npm installs it from the registry: the packed package in the plugin's own node_modules.
    const packed = await run('npm', ['pack', join(REPO, 'packages/sdk'), '--pack-destination', dir, '--json'], { cwd: dir });
    expect(packed.code, packed.stderr).to.equal(0);
    const [{ filename }] = JSON.parse(packed.stdout) as { filename: string }[];
    const sdk = join(plugin, 'node_modules/@flexnode/sdk');
    await mkdir(sdk, { recursive: true });
    const untar = await run('tar', ['-xzf', join(dir, filename!), '-C', sdk, '--strip-components=1']);
    expect(untar.code, untar.stderr).to.equal(0);
    // The dev tools of its package.json, as `npm install` would put them (linked from this repository).
    await mkdir(join(plugin, 'node_modules/@types'), { recursive: true });
    for (const dep of ['typescript', 'mocha', 'chai', '@types/node', '@types/mocha', '@types/chai']) {
      await symlink(join(REPO, 'node_modules', dep), join(plugin, 'node_modules', dep));
    }

    const build = await run(process.execPath, [TSC, '-p', plugin], { cwd: plugin });
    expect(build.code, build.stdout + build.stderr).to.equal(0);
    const test = await run(process.execPath, [MOCHA, 'dist/**/*.test.js'], { cwd: plugin, env: { ...process.env, NO_COLOR: '1' } });
    expect(test.code, test.stdout + test.stderr).to.equal(0);
    expect(test.stdout).to.match(/\b4 passing\b/);
    expect(test.stdout).to.not.match(/failing/);
  });

  it('runs in the CLI when linked', async () => {
    const env = cliEnv({ FLEXNODE_DATA_DIR: join(dir, 'data'), FLEXNODE_CACHE_DIR: join(dir, 'cache'), FLEXNODE_CONFIG_DIR: join(dir, 'config') });
    const link = await flexnode(['plugins', 'link', plugin, '--no-install'], env);
    expect(link.code, link.stdout + link.stderr).to.equal(0);
    const config = join(dir, 'config.json');
    await writeFile(config, await readFile(join(REPO, 'examples/config.json')));
    const steps = json(await flexnode(['steps', '--json', '--config', config], env), 'steps --json');
    expect(steps.problems).to.deep.equal([]);
    const step = steps.steps.find((s: { id: string }) => s.id === 'hello.example');
    expect(step).to.deep.include({ title: 'example file written by @acme/plugin-hello', plugin: '@acme/plugin-hello' });
    const plan = json(await flexnode(['plan', '--json', '--only', '@acme/plugin-hello', '--config', config, '--root', join(dir, 'root')], env), 'plan --json');
    const change = plan.changes.find((c: { step: string; action: string }) => c.step === 'hello.example' && c.action === 'write');
    expect(change).to.deep.include({ target: '/etc/flexnode/hello.conf' });
  });
});
