// Runs inside `unshare -m --propagation private` (a private mount namespace, see disk-full.ts): mounts a small
// tmpfs over a directory of the sandbox, fills it, runs the CLI against it and prints what it saw as one JSON line.
// Self-contained on purpose (no suite module: those create scratch dirs when imported).
import { execFile } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync, mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';

interface Args {
  cli: string;
  root: string;
  configPath: string;
  kind: 'state' | 'config';
}

interface Run {
  label: string;
  code: number | null;
  stdout: string;
  stderr: string;
}

const args = JSON.parse(process.argv[2]!) as Args;
const runs: Run[] = [];
const obs: Record<string, unknown> = {};

function sh(cmd: string, argv: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, argv, (error, stdout, stderr) => resolve({ code: error ? 1 : 0, out: `${stdout}${stderr}` }));
  });
}

function cli(label: string, argv: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [args.cli, ...argv, '--config', args.configPath, '--root', args.root],
      { env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const run = { label, code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr };
        runs.push(run);
        resolve(run);
      },
    );
  });
}

/** Write until the filesystem says ENOSPC. */
function fill(dir: string): void {
  const fd = openSync(join(dir, '.filler'), 'w');
  const page = Buffer.alloc(4096, 0x5a);
  try {
    for (;;) writeSync(fd, page);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

const temps = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('.flexnode-tmp-')) : []);

async function mountTmpfs(dir: string, size: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const r = await sh('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  if (r.code !== 0) throw new Error(`mount failed: ${r.out}`);
}

async function stateCase(): Promise<void> {
  // The state dir (journal, backups, cache) on a 512 KiB tmpfs (mounted on its parent: unbootstrap removes the
  // state dir itself, which a mount point would refuse with EBUSY).
  const state = join(args.root, 'var/lib/flexnode');
  await mountTmpfs(join(args.root, 'var/lib'), '512k');
  await cli('first', ['bootstrap', '--only', 'kube.kernel-modules']);
  const before = readFileSync(join(state, 'journal.json'));
  fill(state);
  obs.filled = true;
  await cli('full', ['bootstrap', '--only', 'kube.sysctl']);
  const after = existsSync(join(state, 'journal.json')) ? readFileSync(join(state, 'journal.json')) : Buffer.alloc(0);
  obs.journalSame = before.equals(after);
  try {
    JSON.parse(after.toString('utf8'));
    obs.journalParses = true;
  } catch {
    obs.journalParses = false;
  }
  obs.temps = temps(state);
  rmSync(join(state, '.filler'));
  obs.afterUnbootstrap = '';
  await cli('freed', ['bootstrap', '--only', 'kube.sysctl']);
  await cli('unbootstrap', ['unbootstrap']);
}

async function configCase(): Promise<void> {
  // /etc/sysctl.d on a 64 KiB tmpfs, holding the site's files and a previous version of flexnode's.
  const dir = join(args.root, 'etc/sysctl.d');
  const keep = join(args.root, '..', 'sysctl.d-copy');
  mkdirSync(keep, { recursive: true });
  for (const n of readdirSync(dir)) copyFileSync(join(dir, n), join(keep, n));
  await mountTmpfs(dir, '64k');
  for (const n of readdirSync(keep)) copyFileSync(join(keep, n), join(dir, n));
  const ours = join(dir, '99-flexnode-kubernetes.conf');
  const previous = '# a previous version of this file: must stay as it is when the disk is full\n';
  writeFileSync(ours, previous, { mode: 0o644 });
  const site = readFileSync(join(dir, '10-site.conf'), 'utf8');
  fill(dir);
  await cli('full', ['bootstrap', '--only', 'kube.sysctl']);
  obs.previousKept = readFileSync(ours, 'utf8') === previous;
  obs.temps = temps(dir);
  const journal = join(args.root, 'var/lib/flexnode/journal.json');
  try {
    JSON.parse(readFileSync(journal, 'utf8'));
    obs.journalParses = true;
  } catch {
    obs.journalParses = false;
  }
  rmSync(join(dir, '.filler'));
  await cli('freed', ['bootstrap', '--only', 'kube.sysctl']);
  obs.replaced = readFileSync(ours, 'utf8') !== previous;
  await cli('unbootstrap', ['unbootstrap']);
  obs.restored = existsSync(ours) && readFileSync(ours, 'utf8') === previous;
  obs.siteKept = readFileSync(join(dir, '10-site.conf'), 'utf8') === site;
  rmSync(keep, { recursive: true, force: true });
}

try {
  if (args.kind === 'state') await stateCase();
  else await configCase();
  process.stdout.write(`${JSON.stringify({ runs, obs })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ runs, obs, error: (error as Error).stack })}\n`);
}
