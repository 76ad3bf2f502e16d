import { randomBytes } from 'node:crypto';
import { constants, existsSync, promises as fs, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ExitCode, FlexnodeError, type Logger } from '@flexnode/sdk';

/** What the lock file holds. */
export interface LockInfo {
  pid: number;
  command: string;
  startedAt: string;
  hostname: string;
  /** The holder's start time in clock ticks since boot (/proc/<pid>/stat): what tells a recycled pid apart. */
  startTicks?: number;
}

export interface Lock {
  readonly path: string;
  readonly info: LockInfo;
  /** Remove the lock file, only if it is still ours. */
  release(): Promise<void>;
}

export interface LockOptions {
  /** The command holding the lock, shown to whoever is refused (`bootstrap`, `agent`, ...). */
  command: string;
  log?: Logger;
}

const LOCK_NAME = 'flexnode.lock';
/** A takeover guard older than this was left by a process killed mid-takeover. */
const STALE_GUARD_MS = 30_000;

/**
 * Take the exclusive run lock `<lockDir>/flexnode.lock` (lockDir is e.g. `<root>/run/flexnode`). The file is
 * written complete to a private O_EXCL temp file and then hard-linked into place: link() fails with EEXIST
 * atomically, so two runs never both win and no reader ever sees a half-written lock. A lock whose process is
 * gone is stale and is taken over (logged); a live holder makes this throw LOCKED (exit code 3).
 */
export async function acquireLock(lockDir: string, options: LockOptions): Promise<Lock> {
  await fs.mkdir(lockDir, { recursive: true, mode: 0o755 });
  const path = join(lockDir, LOCK_NAME);
  const ticks = processStartTicks(process.pid);
  const info: LockInfo = {
    pid: process.pid,
    command: options.command,
    startedAt: new Date().toISOString(),
    hostname: hostname(),
    ...(ticks !== undefined ? { startTicks: ticks } : {}),
  };
  const temp = join(lockDir, `.${LOCK_NAME}.${randomBytes(6).toString('hex')}`);
  await writeExclusive(temp, `${JSON.stringify(info)}\n`);
  try {
    try {
      await fs.link(temp, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      await takeOver(lockDir, path, temp, options);
    }
  } finally {
    await fs.rm(temp, { force: true });
  }
  return {
    path,
    info,
    release: async () => {
      const current = await readLock(path);
      if (current.kind === 'held' && current.info.pid === info.pid && current.info.startedAt === info.startedAt) {
        await fs.rm(path, { force: true });
      }
    },
  };
}

/** The lock exists: refuse if its holder lives, else replace it under a takeover guard. */
async function takeOver(lockDir: string, path: string, temp: string, options: LockOptions): Promise<void> {
  const seen = await readLock(path);
  if (seen.kind === 'held' && isAlive(seen.info.pid, seen.info.startTicks)) throw lockedError(seen.info, path);
  // Two runs may find the same stale lock: only the one that creates the guard may replace it.
  const guard = join(lockDir, `${LOCK_NAME}.takeover`);
  if (!(await createGuard(guard))) {
    throw new FlexnodeError('LOCKED', `another flexnode run is taking over the stale lock ${path}`, {
      exitCode: ExitCode.Locked,
      hint: 'try again in a moment',
    });
  }
  try {
    // Re-check under the guard: the lock may have been released and retaken by a live run meanwhile.
    const now = await readLock(path);
    if (now.kind === 'held' && isAlive(now.info.pid, now.info.startTicks)) throw lockedError(now.info, path);
    await fs.rename(temp, path);
    const was =
      now.kind === 'held'
        ? `pid ${now.info.pid} (${now.info.command}, started ${now.info.startedAt})`
        : now.kind === 'absent'
          ? 'nobody'
          : 'an unreadable lock file';
    options.log?.warn(`took over a stale lock ${path} held by ${was}, which is no longer running`);
  } finally {
    await fs.rm(guard, { force: true });
  }
}

async function createGuard(guard: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeExclusive(guard, `${process.pid}\n`);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const stat = await fs.stat(guard).catch(() => undefined);
      if (stat && Date.now() - stat.mtimeMs < STALE_GUARD_MS) return false;
      await fs.rm(guard, { force: true });
    }
  }
  return false;
}

async function writeExclusive(path: string, content: string): Promise<void> {
  const handle = await fs.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

type LockState = { kind: 'held'; info: LockInfo } | { kind: 'absent' } | { kind: 'unreadable' };

async function readLock(path: string): Promise<LockState> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    throw error;
  }
  try {
    const info = JSON.parse(text) as LockInfo;
    if (Number.isInteger(info.pid) && info.pid > 0) return { kind: 'held', info };
  } catch {
    // fall through: a lock file we cannot read names no live holder
  }
  return { kind: 'unreadable' };
}

/**
 * Alive = the pid exists and is still the process that wrote the lock: a pid is recycled after a reboot or a long
 * time. With the holder's start time in clock ticks (`startTicks`, written with the lock) that is exact: the
 * process under the pid now must have started at that tick (a clock step moves wall time, not ticks). Without it
 * (a lock of an older version), the process must at least be Node.js or flexnode by its executable's name
 * (node-exporter, or a kubelet whose flags say --node-labels, are not). When /proc cannot tell (hidepid, no
 * /proc), the pid is believed.
 */
export function isAlive(pid: number, startTicks?: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let argv: string[];
  try {
    // Synchronous on purpose: tiny /proc reads.
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch (error) {
    // The pid exited between the two checks, or /proc is unusable.
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? !existsSync('/proc/self') : true;
  }
  if (startTicks !== undefined) {
    const now = processStartTicks(pid);
    if (now !== undefined) return now === startTicks;
  }
  // A zombie has an empty cmdline: it holds nothing.
  const program = (argv[0] ?? '').split('/').pop() ?? '';
  return /^(node|nodejs|flexnode)(\d+(\.\d+)*)?$/.test(program) || /flexnode/.test(argv[1] ?? '');
}

/** When `pid` started, in clock ticks since boot (/proc/<pid>/stat field 22); undefined when /proc cannot say. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): state is field 3, starttime field 22.
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isSafeInteger(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

function lockedError(info: LockInfo, path: string): FlexnodeError {
  return new FlexnodeError('LOCKED', `another flexnode run holds the lock: pid ${info.pid} (${info.command}), started ${info.startedAt}`, {
    exitCode: ExitCode.Locked,
    hint: `wait for it to finish, or stop pid ${info.pid}; the lock is ${path}`,
  });
}
