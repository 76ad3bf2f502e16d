import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, cliEnv, flexnode, json, REPO, run, writeValidConfig } from './helpers.js';

const NEW_PLUGIN = join(REPO, 'scripts/new-plugin.mjs');
const TSC = join(REPO, 'node_modules/typescript/bin/tsc');
const MOCHA = join(REPO, 'node_modules/mocha/bin/mocha.js');
const LINT_TOOLS = ['eslint', '@eslint/js', 'typescript-eslint', 'eslint-config-prettier', 'prettier'];
const SDK_VERSION = JSON.parse(await readFile(join(REPO, 'packages/sdk/package.json'), 'utf8')).version as string;

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', 'dist-test', 'vendor'].includes(entry.name)) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else out.push(full);
  }
  return out;
}

/**
 * templates/plugin through scripts/new-plugin.mjs, as a plugin author without a registry uses it: the generated
 * plugin installs @flexnode/sdk from the tarball vendored next to it (this checkout's SDK, packed), builds with
 * TypeScript, its mocha tests (runStepCycle from @flexnode/sdk/testing) pass, `npm pack` bundles the SDK, and the
 * CLI installs that tarball from a plain path with no registry reachable, and runs it. The dev tools are the
 * repository's (they would come from the registry).
 */
describe('plugins: the plugin template', function () {
  this.timeout(180_000);
  let dir: string;
  let plugin: string;
  let env: NodeJS.ProcessEnv;
  const tarball = 'acme-plugin-hello-0.1.0.tgz';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flexnode-template-'));
    plugin = join(dir, 'plugin-hello');
    // No registry is reachable: everything below must work offline.
    env = cliEnv({
      FLEXNODE_DATA_DIR: join(dir, 'data'),
      FLEXNODE_CACHE_DIR: join(dir, 'cache'),
      FLEXNODE_CONFIG_DIR: join(dir, 'config'),
      npm_config_registry: 'http://127.0.0.1:9/',
      npm_config_cache: join(dir, 'npm-cache'),
    });
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('generates a plugin with its name filled in and the SDK vendored as a tarball, bundled into its package', async () => {
    const created = await run(process.execPath, [NEW_PLUGIN, plugin, '@acme/plugin-hello'], { cwd: dir, env });
    expect(created.code, created.stderr).to.equal(0);
    expect(created.stdout).to.contain('Created @acme/plugin-hello').and.contain(`flexnode plugins install ./${tarball}`);
    const pkg = JSON.parse(await readFile(join(plugin, 'package.json'), 'utf8'));
    expect(pkg).to.deep.include({ name: '@acme/plugin-hello', version: '0.1.0', flexnode: { plugin: './dist/plugin.js' }, oclif: {} });
    expect(pkg.dependencies).to.deep.equal({ '@flexnode/sdk': `file:vendor/flexnode-sdk-${SDK_VERSION}.tgz` });
    expect(pkg.bundleDependencies).to.deep.equal(['@flexnode/sdk']);
    // Plain paths only: plugin-plugins checks that each entry exists after a tarball install, and a pattern never does.
    expect(pkg.files).to.deep.equal(['dist']);
    expect(existsSync(join(plugin, `vendor/flexnode-sdk-${SDK_VERSION}.tgz`))).to.equal(true);
    for (const file of await filesUnder(plugin)) expect(await readFile(file, 'utf8'), file).to.not.match(/__[A-Z_]+__/);
    expect(await readFile(join(plugin, 'src/plugin.ts'), 'utf8')).to.contain("id: 'hello.example'");
  });

  it('names only step ids that exist in its comments', async () => {
    const source = await readFile(join(plugin, 'src/plugin.ts'), 'utf8');
    const comments = source
      .split('\n')
      .filter((l) => l.trim().startsWith('//') || l.trim().startsWith('*'))
      .join('\n');
    const ids = [...comments.matchAll(/'([a-z0-9-]+(?:\.[a-z0-9-]+)+)'/g)].map((m) => m[1]!);
    expect(ids, 'the comments show at least one step id').to.not.deep.equal([]);
    const steps = json(await flexnode(['steps', '--json'], env), 'steps --json');
    const known = [...steps.steps, ...steps.skipped].map((s: { id: string }) => s.id);
    for (const id of ids) expect(known, `step id "${id}" in a comment of the template`).to.include(id);
  });

  it('with --sdk registry, depends on the published SDK by version and vendors nothing', async () => {
    const other = join(dir, 'plugin-registry');
    const created = await run(process.execPath, [NEW_PLUGIN, other, '@acme/plugin-other', '--sdk', 'registry'], { cwd: dir, env });
    expect(created.code, created.stderr).to.equal(0);
    expect(JSON.parse(await readFile(join(other, 'package.json'), 'utf8')).dependencies).to.deep.equal({ '@flexnode/sdk': `^${SDK_VERSION}` });
    expect(existsSync(join(other, 'vendor'))).to.equal(false);
  });

  it('refuses an invalid package name, a folder that is not empty, and an --sdk tarball that does not exist', async () => {
    const bad = await run(process.execPath, [NEW_PLUGIN, join(dir, 'x'), 'Not A Name'], { cwd: dir });
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain('is not a valid npm package name');
    const again = await run(process.execPath, [NEW_PLUGIN, plugin, '@acme/plugin-hello'], { cwd: dir });
    expect(again.code).to.equal(2);
    expect(again.stderr).to.contain('exists and is not empty');
    const missing = await run(process.execPath, [NEW_PLUGIN, join(dir, 'y'), '@acme/plugin-y', '--sdk', join(dir, 'nope.tgz')], { cwd: dir });
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.contain('no such tarball');
  });

  it('installs offline, builds, and its tests pass; dist holds the plugin and no tests', async () => {
    // `npm install` offline: the SDK comes from vendor/. The dev tools would come from the registry, which this test
    // has not: npm resolves them even with --omit=dev, so they are left out of this install and linked from this
    // repository instead (the package.json is put back as generated afterwards).
    const manifest = await readFile(join(plugin, 'package.json'), 'utf8');
    await writeFile(join(plugin, 'package.json'), JSON.stringify({ ...JSON.parse(manifest), devDependencies: {} }, null, 2));
    const install = await run('npm', ['install', '--offline', '--no-package-lock', '--no-audit', '--no-fund'], { cwd: plugin, env });
    await writeFile(join(plugin, 'package.json'), manifest);
    expect(install.code, install.stdout + install.stderr).to.equal(0);
    expect(JSON.parse(await readFile(join(plugin, 'node_modules/@flexnode/sdk/package.json'), 'utf8')).version).to.equal(SDK_VERSION);
    await mkdir(join(plugin, 'node_modules/@types'), { recursive: true });
    await mkdir(join(plugin, 'node_modules/@eslint'), { recursive: true });
    for (const dep of ['typescript', 'mocha', 'chai', '@types/node', '@types/mocha', '@types/chai', ...LINT_TOOLS]) {
      await symlink(join(REPO, 'node_modules', dep), join(plugin, 'node_modules', dep));
    }
    const build = await run(process.execPath, [TSC, '-p', plugin], { cwd: plugin });
    expect(build.code, build.stdout + build.stderr).to.equal(0);
    expect((await readdir(join(plugin, 'dist'))).filter((f) => f.includes('.test.'))).to.deep.equal([]);
    const testBuild = await run(process.execPath, [TSC, '-p', join(plugin, 'tsconfig.test.json')], { cwd: plugin });
    expect(testBuild.code, testBuild.stdout + testBuild.stderr).to.equal(0);
    const test = await run(process.execPath, [MOCHA, 'dist-test/**/*.test.js'], { cwd: plugin, env: { ...process.env, NO_COLOR: '1' } });
    expect(test.code, test.stdout + test.stderr).to.equal(0);
    expect(test.stdout).to.match(/\b4 passing\b/);
    expect(test.stdout).to.not.match(/failing/);
  });

  it('passes its own `npm run lint` as generated (ESLint with typed rules, Prettier), which catches a lost promise', async () => {
    // The lint tools' commands come from this repository too (linked above), the way npm would put them on PATH.
    const lintEnv = { ...env, PATH: `${join(REPO, 'node_modules/.bin')}:${process.env.PATH}` };
    const lint = await run('npm', ['run', 'lint'], { cwd: plugin, env: lintEnv });
    expect(lint.code, lint.stdout + lint.stderr).to.equal(0);
    expect(lint.stdout).to.contain('All matched files use Prettier code style');
    const lost = join(plugin, 'src/lost.ts');
    await writeFile(lost, "import type { Host } from '@flexnode/sdk';\n\nexport function lost(host: Host): void {\n  host.files.write('/etc/x', 'y');\n}\n");
    const caught = await run('npm', ['run', 'lint'], { cwd: plugin, env: lintEnv });
    await rm(lost);
    expect(caught.code, 'a Host call nobody awaits fails lint').to.not.equal(0);
    expect(caught.stdout).to.contain('src/lost.ts').and.contain('@typescript-eslint/no-floating-promises');
  });

  it('packs with the SDK bundled, and the CLI installs the tarball from a plain path with no registry, and runs it', async () => {
    const packed = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir, '--json'], { cwd: plugin, env });
    expect(packed.code, packed.stderr).to.equal(0);
    const [{ filename, files }] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    expect(filename).to.equal(tarball);
    const paths = files.map((f) => f.path);
    expect(paths).to.include.members(['dist/plugin.js', 'node_modules/@flexnode/sdk/package.json', 'node_modules/@flexnode/sdk/dist/index.js']);
    expect(paths.filter((p) => p.includes('.test.') || p.startsWith('src/') || p.startsWith('vendor/'))).to.deep.equal([]);

    const install = await run(process.execPath, [CLI, 'plugins', 'install', `./${tarball}`], { cwd: dir, env });
    expect(install.code, install.stdout + install.stderr).to.equal(0);
    expect(install.stdout + install.stderr)
      .to.contain('installed v0.1.0')
      .and.not.contain('prepare script');

    // Endpoints on a closed loopback port and no preflight: the plan below asks no network for anything.
    const config = await writeValidConfig(join(dir, 'config.json'));
    const steps = json(await flexnode(['steps', '--json', '--config', config], env), 'steps --json');
    expect(steps.problems).to.deep.equal([]);
    expect(steps.steps.find((s: { id: string }) => s.id === 'hello.example')).to.deep.include({
      title: 'example file written by @acme/plugin-hello',
      plugin: '@acme/plugin-hello',
    });
    const plan = json(await flexnode(['plan', '--json', '--only', '@acme/plugin-hello', '--config', config, '--root', join(dir, 'root')], env), 'plan --json');
    expect(plan.changes.find((c: { step: string; action: string }) => c.step === 'hello.example' && c.action === 'write')).to.deep.include({
      target: '/etc/flexnode/hello.conf',
    });
    const uninstall = await flexnode(['plugins', 'uninstall', '@acme/plugin-hello'], env);
    expect(uninstall.code, uninstall.stdout + uninstall.stderr).to.equal(0);
  });

  it('runs in the CLI when linked', async () => {
    const link = await flexnode(['plugins', 'link', plugin, '--no-install'], env);
    expect(link.code, link.stdout + link.stderr).to.equal(0);
    const steps = json(await flexnode(['steps', '--json'], env), 'steps --json');
    expect(steps.problems).to.deep.equal([]);
    expect(steps.steps.map((s: { id: string; plugin: string }) => `${s.id} ${s.plugin}`)).to.include('hello.example @acme/plugin-hello');
  });
});
