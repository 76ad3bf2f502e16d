// Area "hardening" (issue 17): hostile files and settings must fail fast with exit 2, name what is wrong, echo no
// byte of what they point at, and leave nothing behind: a clientSecretFile that is /dev/zero, a fifo, a directory or
// a 10 MB file (bootstrap and --dry-run); a config symlinked to a file that is not JSON; an empty --root or
// FLEXNODE_ROOT; a plugin tarball whose npm install scripts must not run, and one that is no plugin at all.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configSchema, dotted, stringFields } from '@flexnode/core/config';
import { Checks, CLIENT_ID, diffTrees, excerpt, LOG_DIR, pool, rowOf, runCli, runProgram, Sandbox, STATE_DIR, WORK, type Row } from './lib.js';

const SECRET_FILE = '/etc/flexnode/client-secret';
/** Bytes of the "shadow" file: none of them may be printed. */
const SHADOW_MARKER = 'root:$y$j9T$ShadowHashMarker0xDEADBEEF';

/** The sandbox config with the secret in a file instead of the config. */
const withSecretFile = (config: Record<string, any>) => {
  const c = JSON.parse(JSON.stringify(config)) as Record<string, any>;
  c.azure.servicePrincipal = { clientId: CLIENT_ID, clientSecretFile: SECRET_FILE };
  return c;
};

/** Nothing was written: no state, no log, the tree as it was. */
async function untouched(c: Checks, sb: Sandbox, before: Record<string, string>, what: string): Promise<void> {
  c.ok(!existsSync(sb.path(STATE_DIR)), `${what}: ${STATE_DIR} was created`);
  c.ok(!existsSync(sb.path(LOG_DIR)), `${what}: the log dir was created`);
  const now = await sb.snapshot('restore');
  c.ok(JSON.stringify(now) === JSON.stringify(before), `${what}: the root changed: ${diffTrees(before, now).join(', ')}`);
}

async function secretFileCases(config: Record<string, any>, parallel: number): Promise<Checks[]> {
  type Make = (path: string) => Promise<void>;
  const kinds: [string, Make, RegExp][] = [
    ['/dev/zero (a symlink to it)', (p) => symlink('/dev/zero', p), /a device, not a regular file/],
    ['a fifo', async (p) => void execFileSync('mkfifo', [p]), /named pipe/],
    ['a directory', (p) => mkdir(p), /a directory, not a regular file/],
    ['a 10 MB file', async (p) => (await writeFile(p, '', { mode: 0o600 }), await truncate(p, 10 << 20)), /10485760 bytes/],
  ];
  const cases = kinds.flatMap(([name, make, message]) => [false, true].map((dryRun) => ({ name, make, message, dryRun })));
  return pool(cases, parallel, async (k) => {
    const c = new Checks(`clientSecretFile is ${k.name}${k.dryRun ? ' (--dry-run)' : ''}`);
    const sb = await Sandbox.create(`secret-${k.name}-${k.dryRun}`, withSecretFile(config));
    await mkdir(sb.path('/etc/flexnode'), { recursive: true });
    await k.make(sb.path(SECRET_FILE));
    const before = await sb.snapshot('restore');
    const run = await sb.run(['bootstrap', ...(k.dryRun ? ['--dry-run'] : [])], { timeoutMs: 30_000 });
    c.ok(run.code === 2, `exit ${run.code} (signal ${run.signal}), expected 2 within 30 s: ${excerpt(run)}`);
    c.ok(
      run.stderr.includes('azure.servicePrincipal.clientSecretFile') && k.message.test(run.stderr),
      `the message does not name the field and ${k.message}: ${excerpt(run)}`,
    );
    c.ok(run.ms < 15_000, `took ${run.ms} ms`);
    await untouched(c, sb, before, 'after the refusal');
    await sb.dispose();
    return c;
  });
}

async function configSymlinkCase(config: Record<string, any>): Promise<Checks> {
  const c = new Checks('--config symlinked to a file that is not JSON');
  const sb = await Sandbox.create('config-symlink', config);
  const shadow = join(sb.dir, 'shadow');
  await writeFile(shadow, `${SHADOW_MARKER}:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n`, { mode: 0o600 });
  const link = join(sb.dir, 'linked-config.json');
  await symlink(shadow, link);
  const before = await sb.snapshot('restore');
  for (const args of [['bootstrap'], ['config', 'validate'], ['plan']]) {
    const run = await runCli([...args, '--config', link, '--root', sb.root]);
    c.ok(run.code === 2, `${args.join(' ')}: exit ${run.code}, expected 2: ${excerpt(run)}`);
    c.ok(/is not a JSON document/.test(run.stderr), `${args.join(' ')}: not reported as "not a JSON document": ${excerpt(run)}`);
    c.ok(
      !`${run.stdout}${run.stderr}`.includes('ShadowHashMarker') && !/root:|daemon:/.test(`${run.stdout}${run.stderr}`),
      `${args.join(' ')}: printed bytes of the file`,
    );
  }
  await untouched(c, sb, before, 'after the refusals');
  await sb.dispose((p) => p === shadow);
  return c;
}

async function emptyRootCases(config: Record<string, any>): Promise<Checks[]> {
  const sb = await Sandbox.create('empty-root', config);
  const hostState = existsSync(STATE_DIR);
  const hostLog = existsSync(LOG_DIR);
  const cases: [string, string[], Record<string, string>][] = [
    ['--root ""', ['bootstrap', '--config', sb.configPath, '--root', ''], {}],
    ['FLEXNODE_ROOT=""', ['bootstrap', '--config', sb.configPath], { FLEXNODE_ROOT: '' }],
    ['FLEXNODE_ROOT="" (--dry-run)', ['bootstrap', '--dry-run', '--config', sb.configPath], { FLEXNODE_ROOT: '' }],
    ['FLEXNODE_ROOT="" (agent)', ['agent', '--config', sb.configPath, '--max-cycles', '0'], { FLEXNODE_ROOT: '' }],
    ['FLEXNODE_ROOT=" " (doctor)', ['doctor'], { FLEXNODE_ROOT: ' ' }],
  ];
  const out: Checks[] = [];
  for (const [name, args, env] of cases) {
    const c = new Checks(`empty root: ${name}`);
    const run = await runCli(args, { env });
    c.ok(run.code === 2, `exit ${run.code}, expected 2: ${excerpt(run)}`);
    c.ok(/--root \(or FLEXNODE_ROOT\) is empty/.test(run.stderr), `the message does not say the root is empty: ${excerpt(run)}`);
    // Taken as `/`, the run would have made the real host's state and log dirs.
    c.ok(existsSync(STATE_DIR) === hostState && existsSync(LOG_DIR) === hostLog, 'the real host /var/lib/flexnode or log dir appeared');
    out.push(c);
  }
  const unitDir = new Checks('agent install-service --unit-dir with ".."');
  const run = await runCli(['agent', 'install-service', '--root', sb.root, '--unit-dir', '/etc/../../../../tmp']);
  unitDir.ok(run.code === 2 && /--unit-dir: .*"\.\."/.test(run.stderr), `exit ${run.code}: ${excerpt(run)}`);
  unitDir.ok(!existsSync('/tmp/flexnode-agent.service') && !existsSync(join(WORK, 'flexnode-agent.service')), 'a unit was written outside the root');
  out.push(unitDir);
  await sb.dispose();
  return out;
}

/** A package tarball made with `npm pack` from a package.json and files. */
async function packTarball(dir: string, pkg: Record<string, unknown>, files: Record<string, string>): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const r = await runProgram('npm', ['pack', dir, '--pack-destination', join(dir, '..'), '--ignore-scripts'], {
    npm_config_cache: join(dir, '..', 'npm-cache'),
  });
  const name = r.stdout.trim().split('\n').pop()!;
  if (r.code !== 0 || !name.endsWith('.tgz')) throw new Error(`npm pack failed: ${r.stderr}`);
  return join(dir, '..', name);
}

async function pluginScriptCases(): Promise<Checks[]> {
  const dir = join(WORK, 'plugin-scripts');
  const ran = join(dir, 'SCRIPT_RAN');
  const scripts = { preinstall: `touch ${ran}.pre`, install: `touch ${ran}.install`, postinstall: `touch ${ran}.post` };
  const plugin = await packTarball(
    join(dir, 'scripted'),
    { name: '@rel/plugin-scripted', version: '1.0.0', type: 'module', flexnode: { plugin: './plugin.js' }, oclif: {}, scripts },
    { 'plugin.js': "export default { name: '@rel/plugin-scripted', apiVersion: 1, steps: [] };\n" },
  );
  const notPlugin = await packTarball(join(dir, 'not-a-plugin'), { name: '@rel/not-a-plugin', version: '1.0.0', scripts }, { 'index.js': '' });
  const env = (name: string) => ({
    FLEXNODE_DATA_DIR: join(dir, `data-${name}`),
    FLEXNODE_CACHE_DIR: join(dir, `cache-${name}`),
    FLEXNODE_CONFIG_DIR: join(dir, `config-${name}`),
    npm_config_cache: join(dir, 'npm-cache'),
    npm_config_audit: 'false',
    npm_config_offline: 'true',
  });
  const scriptsRan = () => ['pre', 'install', 'post'].filter((s) => existsSync(`${ran}.${s}`));

  const off = new Checks('plugin tarball with install scripts: installed, scripts not run');
  const install = await runCli(['plugins', 'install', `file:${plugin}`], { env: env('off'), timeoutMs: 120_000 });
  off.ok(install.code === 0, `plugins install exited ${install.code}: ${excerpt(install)}`);
  off.ok(scriptsRan().length === 0, `install scripts ran: ${scriptsRan().join(', ')}`);
  off.ok(/install scripts are disabled/.test(install.stdout + install.stderr), 'the install does not say that scripts are disabled');
  const listed = await readFile(join(dir, 'data-off/package.json'), 'utf8').catch(() => '');
  off.ok(listed.includes('@rel/plugin-scripted'), 'the plugin is not in the data dir package.json');

  const refused = new Checks('a tarball that declares no plugin field: refused (exit 2) before npm runs');
  const bad = await runCli(['plugins', 'install', `file:${notPlugin}`], { env: env('bad'), timeoutMs: 120_000 });
  refused.ok(bad.code === 2, `exit ${bad.code}: ${excerpt(bad)}`);
  refused.ok(/is not a flexnode plugin/.test(bad.stderr), `no "is not a flexnode plugin": ${excerpt(bad)}`);
  refused.ok(!existsSync(join(dir, 'data-bad/node_modules/@rel/not-a-plugin')), 'the package was installed');
  refused.ok(scriptsRan().length === 0, `install scripts ran: ${scriptsRan().join(', ')}`);

  // The control: with the documented opt-in the same tarball's scripts do run (so the check above can fail).
  const optIn = new Checks('(control) FLEXNODE_PLUGIN_INSTALL_SCRIPTS=1 runs the scripts');
  const on = await runCli(['plugins', 'install', `file:${plugin}`], { env: { ...env('on'), FLEXNODE_PLUGIN_INSTALL_SCRIPTS: '1' }, timeoutMs: 120_000 });
  optIn.ok(on.code === 0, `exit ${on.code}: ${excerpt(on)}`);
  optIn.ok(existsSync(`${ran}.post`), 'the postinstall script did not run with the opt-in');
  await rm(dir, { recursive: true, force: true });
  return [off, refused, optIn];
}

/**
 * Every string field of the schema (walked, not listed), through the CLI: a newline, ESC or NUL in it makes
 * `bootstrap` exit 2 naming the field, before anything is written.
 */
async function stringFieldCases(config: Record<string, any>, parallel: number): Promise<Checks[]> {
  const fields = stringFields(configSchema());
  const sb = await Sandbox.create('string-fields', config);
  const before = await sb.snapshot('restore');
  const controls = ['\n', '\u001b', '\u0000'];
  const checks = await pool(fields, parallel, async (field, i) => {
    const path = dotted(field.path);
    const c = new Checks(`control character in ${path}`);
    const cfg = JSON.parse(JSON.stringify(config)) as Record<string, any>;
    let node: any = cfg;
    field.path.forEach((segment, j) => {
      if (j === field.path.length - 1) node[segment] = `/x${controls[i % controls.length]}ExecStartPre=/bin/false`;
      else node = node[segment] = node[segment] !== null && typeof node[segment] === 'object' ? node[segment] : typeof field.path[j + 1] === 'number' ? [] : {};
    });
    const file = join(sb.dir, `field-${i}.json`);
    await writeFile(file, JSON.stringify(cfg), { mode: 0o600 });
    const run = await runCli(['bootstrap', '--config', file, '--root', sb.root]);
    c.ok(run.code === 2, `exit ${run.code}, expected 2: ${excerpt(run)}`);
    c.ok(run.stderr.includes(`${path}: `), `the message does not name ${path}: ${excerpt(run)}`);
    c.ok(!run.stderr.includes('ExecStartPre'), 'the value was echoed');
    return c;
  });
  await untouched(checks[0] ?? new Checks('string fields'), sb, before, 'after every refusal');
  await sb.dispose((p) => /\/field-\d+\.json$/.test(p));
  return checks;
}

export async function hardeningArea(config: Record<string, any>, parallel: number): Promise<Row[]> {
  const strings = await stringFieldCases(config, parallel);
  const secretFiles = await secretFileCases(config, parallel);
  const symlinked = await configSymlinkCase(config);
  const roots = await emptyRootCases(config);
  const plugins = await pluginScriptCases();
  return [
    rowOf('hardening', 'every string field of the schema (walked): a control character → exit 2, field named', strings, `${strings.length} fields`),
    rowOf('hardening', 'clientSecretFile /dev/zero, fifo, dir, 10 MB (and --dry-run): exit 2 fast, nothing written', secretFiles, `${secretFiles.length} runs`),
    rowOf('hardening', 'config symlinked to a non-JSON file: exit 2, no byte echoed', [symlinked]),
    rowOf('hardening', 'empty --root / FLEXNODE_ROOT, --unit-dir with "..": exit 2', roots),
    rowOf('hardening', 'plugin tarball: install scripts not run; a non-plugin refused', plugins),
  ];
}
