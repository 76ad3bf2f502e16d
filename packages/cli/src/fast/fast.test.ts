import { expect } from 'chai';
import { Config, Flags, Parser } from '@oclif/core';
import { parseArgv } from '@flexnode/core/cli';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inBatches, REPO, runCli, type CliResult } from '../test/run-cli.js';
import { jsonFlagSpec } from '../run/flags.js';
import { command as status } from './status.js';
import { command as steps } from './steps.js';
import { command as version } from './version.js';
import { cachedToken } from '@flexnode/plugin-arc';
import { tokenFlags } from './token.js';

const CLI_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const example = join(REPO, 'examples/config.json');
const FAST = { status, steps, version } as const;
// Loaded before bin/run.js: tells on stderr whether oclif was loaded (its settings module defines globalThis.oclif).
const PROBE = join(tmpdir(), `flexnode-oclif-probe-${process.pid}.cjs`);

/**
 * Durations, times and pids differ between two runs, and so does the order in which concurrent checks finish
 * (status prints each step as it ends); nothing else may.
 */
const normalise = (text: string) => {
  const fixed = text
    .replace(/\b\d+(\.\d+)? (ms|s)\b/g, 'N $2')
    .replace(/"(durationMs|startedMs|elapsedMs|pid|cycles|ms)": \d+/g, '"$1": N')
    .replace(/\(node:\d+\)/g, '(node:PID)')
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, 'TIME');
  try {
    const data = JSON.parse(fixed) as { results?: { id: string }[] };
    data.results?.sort((a, b) => a.id.localeCompare(b.id));
    return JSON.stringify(data, null, 2);
  } catch {
    // A step's line and the indented lines under it, in step order; steps print as they finish, so the order
    // varies between runs. What follows the list after a blank line (status's verdict) stays last.
    const first = fixed.search(/\n[✓✗•-] /);
    const trailerAt = first < 0 ? -1 : fixed.indexOf('\n\n', first);
    const [list, trailer] = trailerAt < 0 ? [fixed, ''] : [fixed.slice(0, trailerAt), fixed.slice(trailerAt)];
    const blocks = list.split(/\n(?=[✓✗•-] )/);
    return [blocks[0], ...blocks.slice(1).sort()].join('\n') + trailer;
  }
};

// status's preflight probes Azure and dl.k8s.io: through a closed loopback proxy here, so that no run reaches for
// them (not even their names, through this machine's resolver).
const OFFLINE = { HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '' };
const run = (args: string[], env: Record<string, string>, fast: boolean) =>
  runCli(args, { env: { ...OFFLINE, ...env, ...(fast ? {} : { FLEXNODE_NO_FAST_PATH: '1' }) }, nodeArgs: ['-r', PROBE] });

const oclifLoaded = (r: CliResult) => r.stderr.includes('[oclif loaded]');
const output = (r: CliResult) => ({ code: r.code, stdout: normalise(r.stdout), stderr: normalise(r.stderr.replace('[oclif loaded]\n', '')) });

describe('bin/run.js fast path: the same output and exit code as the oclif commands', function () {
  this.timeout(300_000);
  let dir: string;
  before(async () => writeFile(PROBE, "process.on('exit', () => { if (globalThis.oclif) process.stderr.write('[oclif loaded]\\n'); });\n"));
  after(() => rm(PROBE, { force: true }));
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'flexnode-fast-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("every fast command's flags are its oclif command's (oclif.manifest.json), --json included", async () => {
    const manifest = JSON.parse(await readFile(join(CLI_ROOT, 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, { flags: Record<string, Record<string, unknown>> }>;
    };
    for (const [name, command] of Object.entries(FAST)) {
      const oclif = manifest.commands[name]!;
      expect(Object.keys(oclif.flags).sort(), name).to.deep.equal([...Object.keys(command.flags), 'json'].sort());
      expect(oclif.flags.json, name).to.deep.include({ type: 'boolean' });
      for (const [flag, spec] of Object.entries(command.flags)) {
        const f = oclif.flags[flag]!;
        expect(
          {
            type: f.type === 'option' ? 'string' : f.type,
            char: f.char,
            env: f.env,
            default: f.default,
            multiple: Boolean(f.multiple),
            delimiter: f.delimiter,
            summary: f.summary,
          },
          `${name} --${flag}`,
        ).to.deep.equal({
          type: spec.type,
          char: spec.char,
          env: spec.env,
          default: spec.default,
          multiple: Boolean(spec.multiple),
          delimiter: spec.delimiter,
          summary: spec.summary,
        });
      }
    }
    // `token` is plugin-arc's command: the fast path parses its flags (names and kinds) from its own specs.
    const arc = JSON.parse(await readFile(join(REPO, 'packages/plugin-arc/oclif.manifest.json'), 'utf8')) as typeof manifest;
    const arcToken = arc.commands.token!.flags;
    expect(Object.keys(tokenFlags).sort()).to.deep.equal(Object.keys(arcToken).sort());
    for (const [flag, spec] of Object.entries(tokenFlags))
      expect(spec.type, `token --${flag}`).to.equal(arcToken[flag]!.type === 'option' ? 'string' : arcToken[flag]!.type);
    // bin/run.js sends exactly these commands to lib/fast/<name>.js.
    const bin = await readFile(join(CLI_ROOT, 'bin/run.js'), 'utf8');
    const listed = JSON.parse(/FAST_COMMANDS = new Set\((\[[^\]]*\])\)/.exec(bin)![1]!.replace(/'/g, '"')) as string[];
    expect(listed.sort()).to.deep.equal([...Object.keys(FAST), 'token'].sort());
    const built = (await readdir(join(CLI_ROOT, 'lib/fast'))).filter((f) => f.endsWith('.js')).map((f) => f.replace(/\.js$/, ''));
    expect(built.sort()).to.deep.equal([...Object.keys(FAST), 'token'].sort());
  });

  it('parses command lines as oclif does (booleans, repeated and delimited flags, environment), or leaves them to oclif', async () => {
    const { default: Status } = await import('../commands/status.js');
    const flags = { ...Status.baseFlags, ...Status.flags, json: Flags.boolean({ summary: 'Format output as json.' }) };
    const spec = { ...status.flags, json: jsonFlagSpec };
    const env = { FLEXNODE_CONFIG: '/env.json', FLEXNODE_ROOT: '' };
    const lines = [
      [],
      ['--json'],
      ['--config', '/c.json', '--root=/r', '--json'],
      ['-c', '/c.json', '--only=a,b', '--only', 'c'],
      ['--config='],
      ['--root', '/x', '--only', 'kube.swap'],
    ];
    for (const argv of lines) {
      const saved = { ...process.env };
      Object.assign(process.env, env);
      try {
        const parsed = await Parser.parse(argv, { flags, strict: true });
        expect(parseArgv(spec, argv, env), argv.join(' ')).to.deep.equal(JSON.parse(JSON.stringify(parsed.flags)));
      } finally {
        for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
        Object.assign(process.env, saved);
      }
    }
    for (const argv of [
      ['--help'],
      ['-h'],
      ['x'],
      ['--json=true'],
      ['--json', '--json'],
      ['--config', 'a', '--config', 'b'],
      ['--config'],
      ['--only'],
      ['--', '--json'],
    ]) {
      expect(parseArgv(spec, argv, {}), argv.join(' ')).to.equal(undefined);
    }
  });

  it('no fast command has an oclif hook around it: the CLI declares none (only oclif would run them)', async () => {
    const config = await Config.load({ root: CLI_ROOT });
    const hooks = config.getPluginsList().flatMap((p) => Object.keys(p.hooks ?? {}).map((h) => `${p.name}:${h}`));
    // plugins:* run for plugin commands, command_not_found for a line naming no command: never for a fast one.
    expect(hooks.filter((h) => !/:plugins:|:update$|:command_not_found$/.test(h))).to.deep.equal([]);
  });

  it('prints the same as oclif for each command line, and loads no oclif unless it hands the line over', async () => {
    const missing = join(dir, 'absent.json');
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{\n  "azure": {\n');
    // A config oclif warns about (a client secret in a file others can read).
    const warned = join(dir, 'warned.json');
    const withSecret = JSON.parse(await readFile(example, 'utf8'));
    withSecret.azure.servicePrincipal = { clientId: '11111111-2222-3333-4444-555555555555', clientSecret: 'not-a-real-secret' };
    await writeFile(warned, JSON.stringify(withSecret));
    await chmod(warned, 0o644);
    const root = join(dir, 'root');
    await mkdir(root);
    const cases: { args: string[]; env?: Record<string, string>; fast: boolean }[] = [
      { args: ['version'], fast: true },
      { args: ['version', '--json'], fast: true },
      { args: ['version', '--root', '/elsewhere'], fast: true },
      { args: ['steps'], fast: true },
      { args: ['steps', '--json'], fast: true },
      { args: ['steps', '-c', example], fast: true },
      { args: ['steps', '--config=' + example, '--json'], fast: true },
      { args: ['steps'], env: { FLEXNODE_CONFIG: example, FLEXNODE_CONTENT_TYPE: 'json' }, fast: true },
      { args: ['steps', '--config', missing], fast: true },
      { args: ['steps', '--config', broken, '--json'], fast: true },
      { args: ['status', '--config', example, '--root', root], fast: true },
      { args: ['status', '--config', example, '--root', root, '--json'], fast: true },
      { args: ['status', '--config', example, '--root', root, '--only', 'container-runtime,kube.swap'], fast: true },
      { args: ['status', '--config', example, '--root', root, '--only', 'no-such-step'], fast: true },
      { args: ['status', '--config', missing, '--root', root], fast: true },
      { args: ['status', '--config', warned, '--root', root, '--only=kube.swap'], fast: true },
      { args: ['status', '--config', example, '--root', root, '--only', 'kube.swap', '--verbose'], fast: true },
      { args: ['steps', '--no-color'], fast: true },
      // Refused by oclif's own checks (an empty root, from the flag or the environment): handed over, exit 2 alike.
      { args: ['status', '--config', example, '--root', ''], fast: false },
      { args: ['steps'], env: { FLEXNODE_ROOT: '' }, fast: false },
      // Lines the fast path hands to oclif: help, unknown flags, a missing value, an argument, a flag twice.
      { args: ['status', '--help'], fast: false },
      { args: ['steps', '-h'], fast: false },
      { args: ['steps', '--bogus'], fast: false },
      { args: ['status', '--config'], fast: false },
      { args: ['version', 'extra'], fast: false },
      { args: ['steps', '--json', '--json'], fast: false },
      { args: ['status', '--root', root], env: { FLEXNODE_DEBUG: '1' }, fast: false },
    ];
    const results = await inBatches(cases, 2, async (c) => {
      const env = c.env ?? {};
      const [viaFast, viaOclif] = [await run(c.args, env, true), await run(c.args, env, false)];
      return { c, viaFast, viaOclif };
    });
    for (const { c, viaFast, viaOclif } of results) {
      const line = `${Object.entries(c.env ?? {})
        .map(([k, v]) => `${k}=${v} `)
        .join('')}flexnode ${c.args.join(' ')}`;
      expect(output(viaFast), line).to.deep.equal(output(viaOclif));
      expect(oclifLoaded(viaOclif), `${line}: oclif ran the reference`).to.equal(true);
      // A warning is printed by oclif's own code, loaded for it.
      const warns = viaFast.stderr.includes('Warning:');
      expect(oclifLoaded(viaFast), `${line}: oclif loaded`).to.equal(!c.fast || warns);
    }
    // The cases cover what they claim: a warning, exit codes 0, 1 and 2, JSON errors.
    const byLine = (args: string[]) => results.find((r) => r.c.args.join(' ') === args.join(' '))!.viaFast;
    expect(byLine(['status', '--config', warned, '--root', root, '--only=kube.swap']).stderr).to.match(/Warning: .*client secret/);
    expect(byLine(['status', '--config', example, '--root', root]).code).to.equal(1);
    expect(byLine(['steps', '--config', missing]).code).to.equal(2);
    expect(JSON.parse(byLine(['steps', '--config', broken, '--json']).stdout).error.code).to.equal('CONFIG_INVALID');
    expect(byLine(['version']).code).to.equal(0);
  });

  it("token answers a cached credential without oclif, as plugin-arc's command does; anything else is that command's", async () => {
    const aks = '6dae42f8-4368-4678-94ff-3960e28e3630';
    const cache = join(dir, 'tokens');
    // Cached as `flexnode token` caches it (plugin-arc's own code), for the identity endpoint of the runs below: a
    // closed loopback port, so that a miss fails without leaving the machine.
    const endpoint = { IDENTITY_ENDPOINT: 'http://127.0.0.1:9/metadata/identity/oauth2/token', IMDS_ENDPOINT: 'http://127.0.0.1:9' };
    const saved = process.env.IDENTITY_ENDPOINT;
    process.env.IDENTITY_ENDPOINT = endpoint.IDENTITY_ENDPOINT;
    try {
      await cachedToken(cache, `${aks}/.default`, async () => ({ token: 'cached-token', expiresOnTimestamp: Date.now() + 3_600_000 }));
    } finally {
      if (saved === undefined) delete process.env.IDENTITY_ENDPOINT;
      else process.env.IDENTITY_ENDPOINT = saved;
    }
    const v1 = 'client.authentication.k8s.io/v1';
    const data = join(dir, 'data');
    await mkdir(join(data, 'linked'), { recursive: true });
    await writeFile(join(data, 'linked/package.json'), JSON.stringify({ name: 'linked-plugin', version: '1.0.0', oclif: {} }));
    await writeFile(
      join(data, 'package.json'),
      JSON.stringify({ private: true, oclif: { schema: 1, plugins: [{ name: 'linked-plugin', type: 'link', root: join(data, 'linked') }] } }),
    );
    const cases: { args: string[]; env?: Record<string, string>; fast: boolean }[] = [
      { args: ['token', '--resource', aks, '--cache-dir', cache], fast: true },
      { args: ['token', `--resource=${aks}`, '--cache-dir', cache, '--api-version', v1, '--json'], fast: true },
      { args: ['token', '--resource', aks, '--cache-dir', cache], env: { KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion: v1 }) }, fast: true },
      // A miss (another resource), --no-cache, an apiVersion the command refuses, another plugin that could answer.
      { args: ['token', '--resource', 'https://other.example/', '--cache-dir', cache], fast: false },
      { args: ['token', '--resource', aks, '--cache-dir', cache, '--no-cache', '--json'], fast: false },
      { args: ['token', '--resource', aks, '--cache-dir', cache, '--api-version', 'v9'], fast: false },
      { args: ['token', '--resource', aks, '--cache-dir', cache], env: { FLEXNODE_DATA_DIR: data }, fast: false },
      // Input the command refuses (exit 2), even where the cache could answer.
      { args: ['token', '--resource', 'aks', '--cache-dir', cache], fast: false },
      { args: ['token', '--resource', aks, '--cache-dir', 'tokens', '--json'], fast: false },
      // The cache's own directory, spelled against the SDK's path rule: the fast path would find the token there.
      { args: ['token', '--resource', aks, '--cache-dir', `${cache}/.`], fast: false },
    ];
    const results = await inBatches(cases, 2, async (c) => {
      const env = { ...endpoint, ...c.env };
      return { c, viaFast: await run(c.args, env, true), viaOclif: await run(c.args, env, false) };
    });
    for (const { c, viaFast, viaOclif } of results) {
      const line = `flexnode ${c.args.join(' ')}`;
      expect(output(viaFast), line).to.deep.equal(output(viaOclif));
      expect(oclifLoaded(viaFast), `${line}: oclif loaded`).to.equal(!c.fast);
      // plugin-arc's `this.exit(1)` ends the run with its message only (not oclif's "Error: EEXIT: 1" after it).
      expect(viaOclif.stderr, line).to.not.contain('EEXIT');
      if (c.fast) {
        expect(viaFast.code, line).to.equal(0);
        expect(JSON.parse(viaFast.stdout).status.token, line).to.equal('cached-token');
      }
    }
    expect(JSON.parse(results[1]!.viaFast.stdout).apiVersion, 'the apiVersion asked for').to.equal(v1);
    expect(JSON.parse(results[2]!.viaFast.stdout).apiVersion, 'the apiVersion KUBERNETES_EXEC_INFO asks for').to.equal(v1);
    const miss = results[3]!.viaFast;
    expect(miss.code).to.equal(1);
    expect(miss.stdout).to.equal('');
    expect(miss.stderr).to.match(/^flexnode token: the Arc machine identity gave no token for https:\/\/other\.example\/\.default/);
    expect(results[7]!.viaFast.code).to.equal(2);
    expect(results[7]!.viaFast.stderr).to.match(/^flexnode token: --resource "aks" is neither an application id/);
    expect(results[8]!.viaFast.code).to.equal(2);
    expect(JSON.parse(results[8]!.viaFast.stdout).error.message).to.equal('--cache-dir "tokens": expected an absolute path (starting with /)');
    expect(results[9]!.viaFast.code).to.equal(2);
    expect(results[9]!.viaFast.stderr).to.contain('expected a normalised path');
  });

  it('a plugin whose code throws is left out, named with its error, alike in both paths', async () => {
    // A linked plugin whose step condition throws a TypeError: a bug in one plugin is contained (left out, with the
    // error and the fix), the command itself succeeds, and both paths print exactly the same.
    const plugin = join(dir, 'plugin');
    await mkdir(plugin);
    await writeFile(
      join(plugin, 'package.json'),
      JSON.stringify({ name: 'flexnode-plugin-broken', version: '1.0.0', type: 'module', flexnode: { plugin: './plugin.js' }, oclif: {} }),
    );
    await writeFile(
      join(plugin, 'plugin.js'),
      "export default { apiVersion: 1, steps: [{ id: 'broken.step', title: 'Broken', when: () => { throw new TypeError('the condition is broken'); }, create: () => ({}) }] };\n",
    );
    const data = join(dir, 'data');
    await mkdir(data);
    await writeFile(
      join(data, 'package.json'),
      JSON.stringify({ private: true, oclif: { schema: 1, plugins: [{ name: 'flexnode-plugin-broken', type: 'link', root: plugin }] } }),
    );
    for (const json of [[], ['--json']]) {
      const args = ['steps', '--config', example, ...json];
      const env = { FLEXNODE_DATA_DIR: data };
      const [viaFast, viaOclif] = [await run(args, env, true), await run(args, env, false)];
      expect(output(viaFast), args.join(' ')).to.deep.equal(output(viaOclif));
      expect(viaFast.code).to.equal(0);
      expect(viaFast.stdout + viaFast.stderr)
        .to.contain('the condition is broken')
        .and.contain('flexnode-plugin-broken');
    }
  });

  it('steps aside for a plugin with oclif hooks around commands, and for a plugin oclif cannot find', async () => {
    const plugin = join(dir, 'hooked');
    await mkdir(plugin);
    await writeFile(
      join(plugin, 'package.json'),
      JSON.stringify({ name: 'hooked-plugin', version: '1.0.0', type: 'module', oclif: { hooks: { init: './init.js' } } }),
    );
    await writeFile(join(plugin, 'init.js'), "export default async function () { process.stderr.write('init hook ran\\n'); }\n");
    const data = join(dir, 'data');
    await mkdir(data);
    const register = (plugins: unknown[]) => writeFile(join(data, 'package.json'), JSON.stringify({ private: true, oclif: { schema: 1, plugins } }));
    await register([{ name: 'hooked-plugin', type: 'link', root: plugin }]);
    const hooked = await run(['version'], { FLEXNODE_DATA_DIR: data }, true);
    expect(hooked.stderr).to.contain('init hook ran');
    expect(oclifLoaded(hooked)).to.equal(true);
    await register([{ name: 'not-installed-plugin', type: 'user' }]);
    const [viaFast, viaOclif] = [await run(['version'], { FLEXNODE_DATA_DIR: data }, true), await run(['version'], { FLEXNODE_DATA_DIR: data }, false)];
    expect(output(viaFast)).to.deep.equal(output(viaOclif));
    expect(oclifLoaded(viaFast)).to.equal(true);
  });
});
