// Shared plumbing of the reliability suite (`npm run reliability`): the built CLI run as a child process (always
// asynchronously: the mirror and the fakes live in this process), sandbox roots seeded with a pristine tree,
// tree snapshots, a transcript of every byte the CLI printed, and the secret scan every sandbox goes through
// before it is removed.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { chmod, chown, lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
// The CLI package's own test helper (compiled): path → type, mode, owner, content hash.
import { treeSnapshot } from '@flexnode/cli/test-support/tree';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = join(REPO, 'packages/cli/bin/run.js');

/** Scratch space: tmpfs when there is one (fsync-heavy runs are I/O bound on disk), else the temp dir. */
export const WORK = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'flexnode-rel-'));

// ---------------------------------------------------------------------------------------------------------------
// Results

/** One line of the table. */
export interface Row {
  area: string;
  name: string;
  tried: number;
  passed: number;
  /** Key figures, e.g. `max 4.1 s`. */
  figure?: string;
  failures: string[];
}

/** Collects the checks of one case: every failed check is a line under the table. */
export class Checks {
  readonly failures: string[] = [];
  constructor(readonly label: string) {}
  ok(condition: unknown, what: string): boolean {
    if (!condition) this.failures.push(`${this.label}: ${what}`);
    return !!condition;
  }
  get passed(): boolean {
    return this.failures.length === 0;
  }
}

/** A row from cases: tried = cases, passed = cases without a failed check. */
export function rowOf(area: string, name: string, cases: Checks[], figure?: string): Row {
  return { area, name, tried: cases.length, passed: cases.filter((c) => c.passed).length, figure, failures: cases.flatMap((c) => c.failures) };
}

/** Run `fn` over items with at most `limit` at once (CLI runs are CPU heavy on 2 cores). */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!, i);
      }
    }),
  );
  return results;
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

// ---------------------------------------------------------------------------------------------------------------
// Running the CLI

export interface CliRun {
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Every stdout/stderr the suite captured, scanned for secrets at the end. */
export const transcript: { label: string; text: string }[] = [];

/** Output that is a credential by design (the exec plugin's stdout): kept out of the scan, counted. */
export const designatedOutputs: string[] = [];

export interface CliOptions {
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** Run through another program first (e.g. `unshare -m ... --`): the CLI's argv is appended. */
  wrapper?: string[];
  /** Keep this run's stdout out of the secret scan (it is a credential channel by design). */
  designatedStdout?: boolean;
}

function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FLEXNODE_CRASH_AT: undefined, FLEXNODE_CRASH_SIGNAL: undefined, ...extra };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return env;
}

/** Spawn `flexnode ARGS` (async); `done` resolves when it exits, never rejects. */
export function spawnCli(args: string[], options: CliOptions = {}): { child: ChildProcess; done: Promise<CliRun> } {
  const started = Date.now();
  const [cmd, ...pre] = options.wrapper ?? [process.execPath];
  const argv = options.wrapper ? [...pre, process.execPath, CLI, ...args] : [CLI, ...args];
  const child = spawn(cmd!, argv, { cwd: REPO, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const done = new Promise<CliRun>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (options.designatedStdout) designatedOutputs.push(stdout);
      else transcript.push({ label: args.join(' '), text: stdout });
      transcript.push({ label: args.join(' '), text: stderr });
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: 127, signal: null, stdout, stderr: `${stderr}${error.message}`, ms: Date.now() - started });
    });
  });
  return { child, done };
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  return spawnCli(args, options).done;
}

/** Run a non-CLI program asynchronously (argument array, no shell). */
export function runProgram(cmd: string, args: string[], env?: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** A short, single-line excerpt of a run's output for failure lines. */
export function excerpt(run: Pick<CliRun, 'stdout' | 'stderr'>, max = 400): string {
  const text = `${run.stderr.trim()} | ${run.stdout.trim().split('\n').slice(-6).join(' / ')}`.replace(/\s+/g, ' ');
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

// ---------------------------------------------------------------------------------------------------------------
// Secrets: every value here must never show up in output or in a file the suite's runs wrote.

const secretValues = new Set<string>();
const secretSources: (() => string[])[] = [];

export function addSecret(value: string): void {
  secretValues.add(value);
}

/** Secrets known only later (tokens the fakes issue). */
export function addSecretSource(source: () => string[]): void {
  secretSources.push(source);
}

export function knownSecrets(): string[] {
  return [...secretValues, ...secretSources.flatMap((s) => s())].filter((s) => s.length >= 8);
}

export const scanStats = { sandboxes: 0, files: 0, bytes: 0, designatedFiles: 0, leaks: [] as string[] };

/**
 * Scan every regular file under `dir` for every known secret (bytes, not text). `designated(path)` marks files that
 * hold a secret on purpose (the config, a token cache): skipped, their mode checked by the secrets area.
 */
export async function scanForSecrets(dir: string, label: string, designated: (path: string) => boolean = () => false): Promise<void> {
  // Tokens (JWTs, many) are found by their prefix (the header, the same for every token of a fake signer), then
  // looked up: a constant number of passes over each file however many tokens were issued (sandboxes hold hundreds
  // of MB of binaries).
  const tokens = new Set(secretSources.flatMap((s) => s()));
  const prefixes = [...new Set([...tokens].map((t) => t.slice(0, t.indexOf('.') + 1)).filter((p) => p.length > 3))];
  const fixed = [...secretValues].filter((s) => s.length >= 8);
  const needles = [...fixed, ...prefixes].map((s) => Buffer.from(s, 'utf8'));
  const isLeak = (data: Buffer, needle: Buffer, at: number) => {
    if (!prefixes.includes(needle.toString('utf8'))) return true;
    for (const t of tokens) if (data.subarray(at, at + t.length).toString('utf8') === t) return true;
    return false;
  };
  scanStats.sandboxes++;
  async function walk(d: string): Promise<void> {
    let names: string[];
    try {
      names = await readdir(d);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(d, name);
      const st = await lstat(p).catch(() => undefined);
      if (!st) continue;
      if (st.isDirectory()) await walk(p);
      else if (st.isFile()) {
        if (designated(p)) {
          scanStats.designatedFiles++;
          continue;
        }
        const data = await readFile(p).catch(() => undefined);
        if (!data) continue;
        scanStats.files++;
        scanStats.bytes += data.length;
        for (const needle of needles) {
          for (let at = data.indexOf(needle); at >= 0; at = data.indexOf(needle, at + 1)) {
            if (!isLeak(data, needle, at)) continue;
            scanStats.leaks.push(`${label}: ${relative(dir, p)} holds a secret or token (${needle.toString('utf8').slice(0, 6)}…)`);
            break;
          }
        }
      }
    }
  }
  await walk(dir);
}

// ---------------------------------------------------------------------------------------------------------------
// Sandboxes

export const SUB = '11111111-2222-3333-4444-555555555555';
export const TENANT = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
export const CLIENT_ID = 'cccccccc-0000-0000-0000-0000000000a1';
/** The operator's client secret: in every sandbox config, so every run of the suite is a redaction test. */
export const CLIENT_SECRET = 'Rel~iab1lity.s3cret-NEVER-printed-7731';
addSecret(CLIENT_SECRET);
export const LOG_DIR = '/var/log/flexnode-rel';
export const STATE_DIR = '/var/lib/flexnode';

/** Pristine sysctl values seeded under <root>/proc/sys (keys flexnode sets; one is left unset on purpose). */
export const SEEDED_SYSCTLS: Record<string, string> = {
  'net/ipv4/ip_forward': '0',
  'net/bridge/bridge-nf-call-iptables': '0',
};
/** A file of the site's that flexnode replaces: it must come back with its content, mode and owner. */
export const SITE_CONTAINERD_CONFIG = {
  path: 'etc/containerd/config.toml',
  content: "# the site's own containerd config: must come back\n",
  mode: 0o640,
  uid: 1234,
  gid: 1234,
};

/** The machine before flexnode: what every unbootstrap must get back to (log dir aside). */
export async function seedPristine(root: string): Promise<void> {
  const dirs = ['sys/module/overlay', 'sys/module/br_netfilter', 'var/log', 'var/lib', 'run', 'usr/bin', 'etc/containerd', 'etc/sysctl.d', 'opt'];
  for (const d of dirs) {
    await mkdir(join(root, d), { recursive: true });
  }
  for (const d of ['', ...dirs.flatMap((d) => d.split('/').map((_, i, a) => a.slice(0, i + 1).join('/')))]) await chmod(join(root, d), 0o755);
  for (const [key, value] of Object.entries(SEEDED_SYSCTLS)) {
    await mkdir(join(root, 'proc/sys', key, '..'), { recursive: true });
    await writeFile(join(root, 'proc/sys', key), `${value}\n`, { mode: 0o644 });
  }
  await writeFile(join(root, 'usr/bin/site-tool'), '#!/bin/sh\necho site\n', { mode: 0o755 });
  await chmod(join(root, 'usr/bin/site-tool'), 0o755);
  await writeFile(join(root, 'etc/sysctl.d/10-site.conf'), 'vm.swappiness = 10\n', { mode: 0o644 });
  const c = SITE_CONTAINERD_CONFIG;
  await writeFile(join(root, c.path), c.content);
  await chmod(join(root, c.path), c.mode);
  await chown(join(root, c.path), c.uid, c.gid);
}

export type SnapshotKind = 'converge' | 'restore';

/** The tree as compared: `restore` leaves out the log dir only; `converge` also flexnode's own state dir. */
export function snapshot(root: string, kind: SnapshotKind): Promise<Record<string, string>> {
  return treeSnapshot(root, (rel) => rel === LOG_DIR || (kind === 'converge' && rel === STATE_DIR));
}

/** The differing paths of two snapshots, as short lines. */
export function diffTrees(want: Record<string, string>, got: Record<string, string>, max = 6): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(want), ...Object.keys(got)])) {
    if (want[k] === got[k]) continue;
    out.push(want[k] === undefined ? `+${k}` : got[k] === undefined ? `-${k}` : `~${k} (${want[k]!.slice(0, 30)} → ${got[k]!.slice(0, 30)})`);
  }
  return out.length > max ? [...out.slice(0, max), `… ${out.length - max} more`] : out;
}

export interface SandboxConfigOptions {
  mirror: string;
  pins: Record<'containerd' | 'runc' | 'cni-plugins', { version: string; sha256: string }>;
}

/** The no-Azure sandbox config: components pinned to the mirror, the preflight checks that ask Azure skipped. */
export function baseConfig(o: SandboxConfigOptions): Record<string, any> {
  return {
    azure: {
      subscriptionId: SUB,
      tenantId: TENANT,
      servicePrincipal: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      targetCluster: { resourceId: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks` },
    },
    agent: { logDir: LOG_DIR, logLevel: 'debug' },
    artifacts: { mirror: o.mirror },
    containerd: o.pins.containerd,
    runc: o.pins.runc,
    cni: { ...o.pins['cni-plugins'], podCIDR: '10.88.0.0/24' },
    // The clock check reads the Date of the Azure endpoint's answer: skipped with it, so no run reaches for Azure.
    pluginConfig: { '@flexnode/plugin-kube': { skipPreflight: ['azure-endpoint', 'clock', 'disk'] } },
  };
}

/** What runs end to end in a sandbox without Azure. */
export const SANDBOX_ONLY = 'container-runtime,cni,kube.sysctl,kube.kernel-modules';

let sandboxes = 0;

/** A temp dir with a seeded pristine `root` and a config file (mode 0600: it holds the client secret). */
export class Sandbox {
  private constructor(
    readonly dir: string,
    readonly root: string,
    readonly configPath: string,
    readonly env: Record<string, string | undefined>,
  ) {}

  static async create(name: string, config: unknown, env: Record<string, string | undefined> = {}): Promise<Sandbox> {
    const dir = join(WORK, `${String(++sandboxes).padStart(3, '0')}-${name.replace(/[^\w.-]+/g, '_').slice(0, 60)}`);
    const root = join(dir, 'root');
    await mkdir(root, { recursive: true });
    await seedPristine(root);
    const configPath = join(dir, 'config.json');
    await writeFile(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });
    return new Sandbox(dir, root, configPath, env);
  }

  /** A byte-exact copy (modes, owners, links) of this sandbox: to branch one killed run two ways. */
  async copy(name: string): Promise<Sandbox> {
    const dir = join(WORK, `${String(++sandboxes).padStart(3, '0')}-${name.replace(/[^\w.-]+/g, '_').slice(0, 60)}`);
    const r = await runProgram('cp', ['-a', this.dir, dir]);
    if (r.code !== 0) throw new Error(`cp -a failed: ${r.stderr}`);
    return new Sandbox(dir, join(dir, 'root'), join(dir, 'config.json'), this.env);
  }

  async writeConfig(config: unknown): Promise<void> {
    await writeFile(this.configPath, JSON.stringify(config, null, 2), { mode: 0o600 });
  }

  run(args: string[], options: CliOptions = {}): Promise<CliRun> {
    return runCli([...args, '--config', this.configPath, '--root', this.root], { ...options, env: { ...this.env, ...options.env } });
  }

  spawn(args: string[], options: CliOptions = {}) {
    return spawnCli([...args, '--config', this.configPath, '--root', this.root], { ...options, env: { ...this.env, ...options.env } });
  }

  snapshot(kind: SnapshotKind) {
    return snapshot(this.root, kind);
  }

  path(target: string): string {
    return join(this.root, target);
  }

  /** The journal as parsed, undefined when absent; throws when it is not whole JSON. */
  async journal(): Promise<JournalFile | undefined> {
    const text = await readFile(this.path(`${STATE_DIR}/journal.json`), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : (JSON.parse(text) as JournalFile);
  }

  /** Files flexnode left half-written anywhere under the root (temp files of atomic writes and downloads). */
  leftovers(): string[] {
    const out: string[] = [];
    const walk = (d: string) => {
      let names: string[];
      try {
        names = readdirSync(d);
      } catch {
        return;
      }
      for (const n of names) {
        const p = join(d, n);
        if (n.startsWith('.flexnode-tmp-')) out.push(relative(this.root, p));
        walk(p);
      }
    };
    walk(this.root);
    return out;
  }

  /** Scan every file for secrets now (before an unbootstrap removes the journal, backups and state). */
  scan(designated?: (path: string) => boolean): Promise<void> {
    return scanForSecrets(this.dir, relative(WORK, this.dir), (p) => p === this.configPath || (designated?.(p) ?? false));
  }

  /** Scan for secrets, then remove. */
  async dispose(designated?: (path: string) => boolean): Promise<void> {
    await this.scan(designated);
    await rm(this.dir, { recursive: true, force: true });
  }
}

export interface JournalFile {
  version: number;
  steps: Record<string, { plugin: string; status: string; changes: unknown[]; updatedAt: string; error?: string }>;
  order: string[];
}

/** Structural check of a journal (what Journal.open would refuse), as a reason or undefined. */
export function journalProblem(j: JournalFile | undefined): string | undefined {
  if (j === undefined) return undefined;
  if (j.version !== 1) return `version ${j.version}`;
  if (typeof j.steps !== 'object' || !Array.isArray(j.order)) return 'steps/order malformed';
  for (const [id, r] of Object.entries(j.steps)) {
    if (!['installing', 'installed', 'uninstalling', 'failed'].includes(r.status) || !Array.isArray(r.changes)) return `record ${id} malformed`;
  }
  return undefined;
}

/** A journal reduced to what must match between two runs that converged: per step, status and changes. */
export function normalJournal(j: JournalFile | undefined): string {
  if (!j) return '(none)';
  // Steps run in parallel: which of them creates (and journals) a shared parent directory depends on timing,
  // so directories count once for the whole journal, not per step.
  const isMkdir = (c: unknown) => (c as { kind?: string }).kind === 'mkdir';
  const dirs = [...new Set(Object.values(j.steps).flatMap((r) => r.changes.filter(isMkdir).map((c) => (c as { path: string }).path)))].sort();
  const steps = Object.keys(j.steps)
    .sort()
    .map((id) => {
      const r = j.steps[id]!;
      return [
        id,
        r.status,
        r.plugin,
        r.changes
          .filter((c) => !isMkdir(c))
          .map((c) => JSON.stringify(c))
          .sort(),
      ];
    });
  return JSON.stringify({ dirs, steps });
}

/** Read a journal file safely for a parse check: 'absent', 'ok' or the parse error. */
export async function journalState(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return 'absent';
  try {
    const problem = journalProblem(JSON.parse(text) as JournalFile);
    return problem ? `malformed: ${problem}` : 'ok';
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
}

export async function removeWork(): Promise<void> {
  await rm(WORK, { recursive: true, force: true });
}
