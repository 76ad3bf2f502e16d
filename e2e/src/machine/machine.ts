// A Debian machine booted with systemd-nspawn (shared/node-in-a-box.md): a fresh overlay over the cached
// rootfs, real systemd inside, driven through nsenter. Teardown ends only the pids and mounts it made.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile as readHostFile, rm, symlink, writeFile as writeHostFile } from 'node:fs/promises';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../mirror/paths.js';
import { run, tail, type RunResult } from '../mirror/run.js';
import { addressVeth, claimSubnet, hostVethOf, type Subnet } from './net.js';
import { ensureBaseRootfs, type RootfsOptions } from './rootfs.js';
import { diffSnapshots, snapshotTree, type Snapshot, type SnapshotDiff } from './snapshot.js';

export { diffSnapshots, type Snapshot, type SnapshotDiff };

/** A host path bound into the machine, at the same path unless `machine` says otherwise. */
export type Bind = string | { host: string; machine?: string };

export interface MachineOptions {
  /** Prefix of the machine name; pid and a counter are appended so parallel runs never clash. */
  name?: string;
  binds?: Bind[];
  bindRo?: Bind[];
  /** Bind the monorepo read-only at its own path (so `node <repo>/packages/cli/...` runs inside). */
  bindRepo?: boolean;
  /** Environment for every exec (on top of PATH/HOME/LANG). */
  env?: Record<string, string>;
  bootTimeoutMs?: number;
  rootfs?: RootfsOptions;
  /**
   * Runs with the machine's disk (its overlay, host path) before it boots: seed files that must be there at
   * first boot (a cloud-init NoCloud seed, say). Changes land in this machine's upper dir only.
   */
  prepare?: (root: string) => Promise<void>;
  /**
   * Runs once the veth is addressed, while the machine still boots (the boot timeout includes it): start the
   * servers its first boot needs on `hostAddress`, and put what its boot waits for on its disk (`root`).
   */
  onNetwork?: (net: { hostAddress: string; address: string; root: string }) => Promise<void>;
}

export interface ExecOptions {
  input?: string | Buffer;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Return a non-zero exit instead of throwing. */
  allowFailure?: boolean;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Machine {
  readonly name: string;
  /** Host pid of the machine's init (systemd). */
  readonly pid: number;
  /** Host pid of the systemd-nspawn process we started. */
  readonly nspawnPid: number;
  /** Address of the host end of the veth: bind servers the machine must reach here (or 0.0.0.0). */
  readonly hostAddress: string;
  /** The machine's own address (host0). */
  readonly address: string;
  readonly hostVeth: string;
  /** Host path of the machine's disk (overlay merged dir). */
  readonly root: string;
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Like exec, but a failure's message carries stdout, stderr and the last 50 journal lines of `unit`. */
  execOrThrow(argv: readonly string[], opts?: ExecOptions & { unit?: string }): Promise<ExecResult>;
  readFile(path: string): Promise<string>;
  readFile(path: string, encoding: null): Promise<Buffer>;
  writeFile(path: string, data: string | Buffer, mode?: number): Promise<void>;
  journal(unit: string, lines?: number): Promise<string>;
  /** The disk tree as the machine sees it, minus DEFAULT_SNAPSHOT_EXCLUDES and `excludes`. */
  snapshot(excludes?: string[]): Promise<Snapshot>;
  /** Text of the nspawn console (boot messages), for diagnostics. */
  console(): string;
  /** Poweroff, then kill what is left, unmount, remove dirs, release the subnet. Safe to call twice. */
  stop(): Promise<void>;
}

export class MachineCommandError extends Error {
  constructor(
    message: string,
    readonly result: ExecResult,
  ) {
    super(message);
    this.name = 'MachineCommandError';
  }
}

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
let counter = 0;
const live = new Set<() => void>();

// Last resort if the test process exits without stop(): kill our pids, lazily unmount our overlay.
process.on('exit', () => {
  for (const cleanup of live) cleanup();
});

/** nspawn mounts the cgroup controllers read-only; containerd/runc must create cgroups, so remount them rw early in boot. */
const CGROUP_RW_UNIT = `[Unit]
Description=e2e: make cgroup controllers writable for containerd (nspawn mounts them read-only)
DefaultDependencies=no
Before=sysinit.target containerd.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'for c in /sys/fs/cgroup/*; do [ -L "$c" ] || ! mountpoint -q "$c" || mount -o remount,bind,rw "$c"; done; if [ -f /sys/fs/cgroup/cgroup.controllers ]; then mount -o remount,rw /sys/fs/cgroup; fi'
`;

function bindArg(flag: string, b: Bind): string {
  const host = typeof b === 'string' ? b : b.host;
  const target = typeof b === 'string' ? b : (b.machine ?? b.host);
  return `${flag}=${host}:${target}`;
}

let reaped: Promise<void> | undefined;

/**
 * Removes machine dirs left by harness processes that died without stop() (their pid is in the name).
 * A plain umount only: if the mount is still busy (a machine still running), it is left alone.
 */
async function reapStale(parent: string): Promise<void> {
  const mounts = await readHostFile('/proc/mounts', 'utf8');
  for (const entry of await readdir(parent).catch(() => [] as string[])) {
    const pid = parseInt(/-([0-9a-z]+)-[0-9a-z]+$/.exec(entry)?.[1] ?? '', 36);
    if (!pid || pid === process.pid || existsSync(`/proc/${pid}`)) continue;
    const merged = join(parent, entry, 'merged');
    if (mounts.includes(` ${merged} `) && (await run(['umount', merged], { allowFailure: true })).exitCode !== 0) continue;
    await rm(join(parent, entry), { recursive: true, force: true });
  }
}

/** Boots a machine and waits until its systemd reports running or degraded. */
export async function startMachine(opts: MachineOptions = {}): Promise<Machine> {
  reaped ??= reapStale(join(tmpdir(), 'flexnode-machines'));
  await reaped;
  const name = `${opts.name ?? 'fx'}-${process.pid.toString(36)}-${(++counter).toString(36)}`;
  if (!/^[a-zA-Z0-9-]{1,60}$/.test(name)) throw new Error(`bad machine name ${name}`);
  const base = await ensureBaseRootfs(opts.rootfs);
  const dir = join(tmpdir(), 'flexnode-machines', name);
  const upper = join(dir, 'upper');
  const work = join(dir, 'work');
  const merged = join(dir, 'merged');
  const varlib = join(dir, 'var-lib-containerd');

  // Everything teardown must undo, recorded as it is made.
  let mounted = false;
  let nspawn: ChildProcess | undefined;
  let nspawnExited: Promise<void> = Promise.resolve();
  let initPid = 0;
  let subnet: Subnet | undefined;
  let hostVeth = '';
  let stopped = false;
  const consoleLog: string[] = [];

  const emergency = () => {
    for (const pid of [initPid, nspawn?.pid]) if (pid) tryKill(pid);
    if (mounted) spawnSync('umount', ['-l', merged]);
    rmSync(dir, { recursive: true, force: true });
  };
  live.add(emergency);

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    try {
      if (nspawn && nspawn.exitCode === null && nspawn.signalCode === null) {
        if (initPid) await execIn(['systemctl', 'poweroff'], { allowFailure: true, timeoutMs: 10_000 }).catch(() => {});
        if (!(await within(nspawnExited, 20_000))) {
          if (initPid) tryKill(initPid); // SIGKILL of a pid namespace's init ends every process in it
          if (!(await within(nspawnExited, 5_000)) && nspawn.pid) tryKill(nspawn.pid);
          await within(nspawnExited, 5_000);
        }
      }
      // The veth goes with the machine's netns; delete it only if it is still there.
      if (hostVeth && (await run(['ip', 'link', 'show', hostVeth], { allowFailure: true })).exitCode === 0) {
        await run(['ip', 'link', 'del', hostVeth], { allowFailure: true });
      }
      if (mounted) {
        await unmount(merged);
        mounted = false;
      }
      await rm(dir, { recursive: true, force: true });
    } finally {
      await subnet?.release();
      live.delete(emergency);
    }
  }

  function execIn(argv: readonly string[], o: ExecOptions = {}): Promise<RunResult> {
    const env = Object.entries({ ...opts.env, ...o.env }).map(([k, v]) => `${k}=${v}`);
    return run(['nsenter', '-t', String(initPid), '-a', 'env', '-i', `PATH=${PATH}`, 'HOME=/root', 'LANG=C.UTF-8', ...env, ...argv], {
      input: o.input,
      timeoutMs: o.timeoutMs ?? 120_000,
      allowFailure: true,
    });
  }

  async function exec(argv: readonly string[], o: ExecOptions = {}): Promise<ExecResult> {
    const r = await execIn(argv, o);
    const result = { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
    if (r.exitCode !== 0 && !o.allowFailure) {
      throw new MachineCommandError(`[${name}] ${argv.join(' ')}: exit ${r.exitCode}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`, result);
    }
    return result;
  }

  async function journal(unit: string, lines?: number): Promise<string> {
    const n = lines ? ['-n', String(lines)] : [];
    return (await exec(['journalctl', '-u', unit, '--no-pager', ...n], { allowFailure: true })).stdout;
  }

  try {
    await mkdir(upper, { recursive: true });
    await mkdir(work);
    await mkdir(merged);
    await mkdir(varlib);
    await run(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${base},upperdir=${upper},workdir=${work}`, merged]);
    mounted = true;

    // Prepared from the host side: these land in this machine's upper dir only.
    const units = join(merged, 'etc/systemd/system');
    await mkdir(join(units, 'sysinit.target.wants'), { recursive: true });
    await writeHostFile(join(units, 'e2e-cgroup-rw.service'), CGROUP_RW_UNIT);
    await symlink('../e2e-cgroup-rw.service', join(units, 'sysinit.target.wants/e2e-cgroup-rw.service'));
    await mkdir(join(merged, 'var/lib/containerd'), { recursive: true });
    await mkdir(join(merged, 'usr/local/bin'), { recursive: true });
    await writeHostFile(join(merged, 'usr/local/bin/node'), '');
    await opts.prepare?.(merged);

    const binds = [...(opts.binds ?? []).map((b) => bindArg('--bind', b)), ...(opts.bindRo ?? []).map((b) => bindArg('--bind-ro', b))];
    if (opts.bindRepo) binds.push(bindArg('--bind-ro', repoRoot()));
    const args = [
      '-D',
      merged,
      '--boot',
      '--register=no',
      '--keep-unit',
      '-M',
      name,
      '--console=pipe',
      '--network-veth',
      '--capability=all',
      '--system-call-filter=add_key keyctl bpf',
      `--bind-ro=${process.execPath}:/usr/local/bin/node`,
      `--bind=${varlib}:/var/lib/containerd`,
      ...binds,
    ];
    // API_VFS_WRITABLE=network only: =1 would let sysctl writes inside reach the host.
    nspawn = spawn('systemd-nspawn', args, {
      env: { ...process.env, SYSTEMD_NSPAWN_API_VFS_WRITABLE: 'network' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const child = nspawn;
    nspawnExited = new Promise((resolve) => child.on('close', () => resolve()));
    child.on('error', (e) => consoleLog.push(`spawn error: ${e.message}\n`));
    for (const s of [child.stdout, child.stderr]) {
      s?.on('data', (b: Buffer) => {
        consoleLog.push(b.toString());
        if (consoleLog.length > 2000) consoleLog.splice(0, 1000);
      });
    }

    const deadline = Date.now() + (opts.bootTimeoutMs ?? 60_000);
    const exited = () => child.exitCode !== null || child.signalCode !== null;
    const fail = (why: string) => new Error(`[${name}] ${why}\n--- nspawn console\n${tail(consoleLog.join(''), 60)}`);

    while (!(initPid = await findInit(child.pid!))) {
      if (exited()) throw fail(`systemd-nspawn exited (${child.exitCode ?? child.signalCode}) before init started`);
      if (Date.now() > deadline) throw fail('init did not appear');
      await sleep(50);
    }
    // The network first, while the machine boots: units that need the host side (a first-boot installer, say)
    // find it up, as on a machine whose network comes from DHCP.
    subnet = await claimSubnet();
    hostVeth = await hostVethOf(initPid);
    await addressVeth(initPid, hostVeth, subnet);
    await opts.onNetwork?.({ hostAddress: subnet.hostAddress, address: subnet.machineAddress, root: merged });
    let state = '';
    for (;;) {
      state = (await execIn(['systemctl', 'is-system-running'], { timeoutMs: 10_000 }).catch(() => undefined))?.stdout.trim() ?? '';
      if (state === 'running' || state === 'degraded') break;
      if (exited()) throw fail(`systemd-nspawn exited (${child.exitCode ?? child.signalCode}) while booting`);
      if (Date.now() > deadline) throw fail(`not booted in time: is-system-running says '${state}'`);
      await sleep(100);
    }
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }

  const claimed = subnet;
  const machine: Machine = {
    name,
    pid: initPid,
    nspawnPid: nspawn.pid!,
    hostAddress: claimed.hostAddress,
    address: claimed.machineAddress,
    hostVeth,
    root: merged,
    exec,
    async execOrThrow(argv, o = {}) {
      const r = await exec(argv, { ...o, allowFailure: true });
      if (r.exitCode === 0) return r;
      const j = o.unit ? `\n--- journalctl -u ${o.unit} (last 50)\n${await journal(o.unit, 50)}` : '';
      throw new MachineCommandError(`[${name}] ${argv.join(' ')}: exit ${r.exitCode}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}${j}`, r);
    },
    readFile: (async (path: string, encoding?: null) => {
      const r = await execIn(['cat', '--', path]);
      if (r.exitCode !== 0) throw new MachineCommandError(`[${name}] readFile ${path}: ${r.stderr.trim()}`, r);
      return encoding === null ? r.stdoutBuffer : r.stdout;
    }) as Machine['readFile'],
    async writeFile(path, data, mode = 0o644) {
      // A shell inside the machine, but with the path and mode as arguments: nothing is interpolated.
      const script = 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"';
      await exec(['sh', '-c', script, 'sh', path, mode.toString(8)], { input: data });
    },
    journal,
    snapshot: (excludes = []) => snapshotTree(merged, { excludes: ['/usr/local/bin/node', '/var/lib/containerd', ...excludes], upper, lower: base }),
    console: () => consoleLog.join(''),
    stop,
  };
  return machine;
}

/** Boots a machine, runs fn, and always stops the machine, also when fn throws. */
export async function withMachine<T>(fn: (m: Machine) => Promise<T>): Promise<T>;
export async function withMachine<T>(opts: MachineOptions, fn: (m: Machine) => Promise<T>): Promise<T>;
export async function withMachine<T>(a: MachineOptions | ((m: Machine) => Promise<T>), b?: (m: Machine) => Promise<T>): Promise<T> {
  const [opts, fn] = typeof a === 'function' ? [{}, a] : [a, b!];
  const m = await startMachine(opts);
  try {
    return await fn(m);
  } finally {
    await m.stop();
  }
}

/**
 * The machine's init: the descendant of our nspawn process that is pid 1 in its own pid namespace and has
 * exec'd systemd. Scans /proc (this kernel has no /proc/PID/task/TID/children).
 */
async function findInit(nspawnPid: number): Promise<number> {
  const parent = new Map<number, number>();
  const status = new Map<number, string>();
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const s = await readHostFile(`/proc/${e}/status`, 'utf8').catch(() => '');
    const ppid = /^PPid:\s+(\d+)/m.exec(s)?.[1];
    if (ppid) {
      parent.set(Number(e), Number(ppid));
      status.set(Number(e), s);
    }
  }
  const isOurs = (pid: number) => {
    for (let p = parent.get(pid); p; p = parent.get(p)) if (p === nspawnPid) return true;
    return false;
  };
  for (const [pid, s] of status) {
    const nspid = /^NSpid:\s+(.*)$/m.exec(s)?.[1]?.trim().split(/\s+/) ?? [];
    if (nspid.length > 1 && nspid[nspid.length - 1] === '1' && /^Name:\s+systemd$/m.test(s) && isOurs(pid)) return pid;
  }
  return 0;
}

async function unmount(path: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    if ((await run(['umount', path], { allowFailure: true })).exitCode === 0) return;
    await sleep(100);
  }
  await run(['umount', '-l', path]); // still busy after 2 s: detach it rather than leak it
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolves true if p settles within ms. */
function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
  return Promise.race([p.then(() => true), timeout]).finally(() => clearTimeout(timer));
}
