// Area 8: secrets. The client secret (in every sandbox config, or in AZURE_CLIENT_SECRET for the Azure runs), every
// token the fake Entra issued and every token the fake Arc HIMDS issued must appear in no byte the suite's runs
// wrote: stdout/stderr of every CLI run, and every file of every sandbox (logs, journal, backups, state, cache),
// scanned when each sandbox is disposed. Files meant to hold a secret (the config, the token cache) are 0600 in
// 0700 directories, and a config that holds a secret and is readable by others gets a warning.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { FakeHimds } from '../fakes/fake-himds.js';
import { arcBox } from './azure.js';
import type { Infra } from './infra.js';
import {
  addSecretSource,
  baseConfig,
  Checks,
  designatedOutputs,
  excerpt,
  knownSecrets,
  rowOf,
  runCli,
  Sandbox,
  scanForSecrets,
  scanStats,
  STATE_DIR,
  transcript,
  WORK,
  type Row,
} from './lib.js';

const AKS_SERVER_APP = '6dae42f8-4368-4678-94ff-3960e28e3630';
const mode = (p: string) => statSync(p).mode & 0o777;

export async function secretsArea(infra: Infra): Promise<Row[]> {
  const rows: Row[] = [];

  // Files flexnode writes that hold secrets or what they protect: journal, backups, state dir; the token cache.
  const modes = new Checks('secret-holding files are 0600 (dirs 0700)');
  const box = await arcBox(infra, 'secrets-modes');
  const run = await box.bootstrap();
  modes.ok(run.code === 0, `arc bootstrap exited ${run.code}: ${excerpt(run)}`);
  const state = box.sb.path(STATE_DIR);
  modes.ok(mode(state) === 0o700, `${STATE_DIR} is ${mode(state).toString(8)}`);
  modes.ok(mode(join(state, 'journal.json')) === 0o600, `journal.json is ${mode(join(state, 'journal.json')).toString(8)}`);
  const backups = join(state, 'backups');
  for (const f of (() => {
    try {
      return readdirSync(backups);
    } catch {
      return [];
    }
  })())
    modes.ok(mode(join(backups, f)) === 0o600, `backup ${f} is ${mode(join(backups, f)).toString(8)}`);

  // The kubelet's exec credential plugin (`flexnode token`) against the fake HIMDS, in a private mount namespace
  // (msal only accepts /var/opt/azcmagent/tokens/<key> realms: a scratch dir is bind-mounted on /var/opt).
  const varopt = join(WORK, 'varopt');
  const himds = await FakeHimds.start({ keyDir: join(varopt, 'azcmagent/tokens'), tokenLifetimeSec: 3600 });
  addSecretSource(() => himds.issued.map((t) => t.token));
  const cacheDir = join(box.sb.dir, 'token-cache');
  mkdirSync(join(box.sb.dir), { recursive: true });
  const token = await runCli(['token', '--resource', AKS_SERVER_APP, '--cache-dir', cacheDir], {
    wrapper: ['unshare', '-m', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$0" /var/opt && exec "$@"', varopt],
    env: himds.env(),
    designatedStdout: true, // an ExecCredential on stdout is what the kubelet asks for
  });
  const issued = himds.issued.at(-1)?.token;
  modes.ok(token.code === 0 && !!issued && token.stdout.includes(issued), `flexnode token did not print a HIMDS token: ${excerpt(token)}`);
  let cacheFiles: string[] = [];
  try {
    cacheFiles = readdirSync(cacheDir);
  } catch {
    // reported below
  }
  modes.ok(cacheFiles.length > 0, 'no token cache file was written');
  modes.ok(cacheFiles.length === 0 || mode(cacheDir) === 0o700, `the token cache dir is ${cacheFiles.length ? mode(cacheDir).toString(8) : '-'}`);
  for (const f of cacheFiles) modes.ok(mode(join(cacheDir, f)) === 0o600, `token cache file ${f} is ${mode(join(cacheDir, f)).toString(8)}`);
  await himds.stop();
  await box.sb.scan((p) => p.startsWith(`${cacheDir}/`));
  const un = await box.run(['unbootstrap']);
  modes.ok(un.code === 0, `unbootstrap exited ${un.code}: ${excerpt(un)}`);
  await box.sb.dispose((p) => p.startsWith(`${cacheDir}/`));
  rows.push(rowOf('secrets', 'journal, backups, state dir, token cache: 0600 / 0700', [modes], `${cacheFiles.length} token file(s)`));

  // A config holding the client secret, readable by others: a warning; the same at 0600: none.
  const warn = new Checks('world-readable config with a secret warns');
  const sb = await Sandbox.create('secrets-warning', baseConfig({ mirror: infra.mirror.url, pins: infra.pins }));
  const quiet = await runCli(['config', 'validate', '--config', sb.configPath]);
  warn.ok(quiet.code === 0 && !/readable by others/.test(quiet.stderr), `a 0600 config warned or failed: ${excerpt(quiet)}`);
  await chmod(sb.configPath, 0o644);
  for (const args of [
    ['config', 'validate'],
    ['plan', '--only', 'kube.sysctl', '--root', sb.root],
  ]) {
    const r = await runCli([...args, '--config', sb.configPath]);
    warn.ok(
      r.code === 0 && /holds a client secret and is readable by others \(mode 0644\)/.test(r.stderr),
      `${args[0]}: no warning for a 0644 config with a secret: ${excerpt(r)}`,
    );
  }
  await sb.dispose();
  rows.push(rowOf('secrets', 'config with a secret readable by others: warned (0600: not)', [warn]));

  // Everything else the suite left in its scratch dir (hostile tarballs, markers dirs...), then every output.
  await scanForSecrets(WORK, 'scratch');
  const needles = knownSecrets();
  const outputLeaks: string[] = [];
  let bytes = 0;
  for (const { label, text } of transcript) {
    bytes += Buffer.byteLength(text);
    for (const n of needles) if (text.includes(n)) outputLeaks.push(`output of \`flexnode ${label.slice(0, 80)}\` holds a secret or token (${n.slice(0, 6)}…)`);
  }
  const outputs = new Checks('outputs');
  outputs.failures.push(...outputLeaks);
  const files = new Checks('files');
  files.failures.push(...scanStats.leaks);
  const tokens = needles.length;
  rows.push(
    rowOf(
      'secrets',
      `no secret/token in any output (${transcript.length} streams; ${designatedOutputs.length} credential stdout set aside)`,
      [outputs],
      `${(bytes / 1024).toFixed(0)} KiB, ${tokens} secrets/tokens`,
    ),
  );
  rows.push(
    rowOf(
      'secrets',
      `no secret/token in any file (${scanStats.sandboxes} scans of sandbox trees)`,
      [files],
      `${scanStats.files} files, ${(scanStats.bytes / 2 ** 20).toFixed(0)} MiB`,
    ),
  );
  return rows;
}
