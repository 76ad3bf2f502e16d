/** Shared test fixtures for the real Host's tests (named *.test.* so that it is not published). */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@flexnode/sdk';
import { Header } from 'tar';
import { Journal } from '../state/journal.js';
import type { PlannedChange } from './plan.js';
import { createRealHost, type RealHost, type RealHostOptions } from './real-host.js';

export interface LogLine {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

export function memoryLogger(): Logger & { lines: LogLine[]; text(): string } {
  const lines: LogLine[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => lines.push({ level, message, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), text: () => JSON.stringify(lines) };
}

const made: string[] = [];
export async function makeTmp(prefix = 'flexnode-host-'): Promise<string> {
  const dir = await fs.mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
// A root-level hook (registered once, when the first test file imports this module): remove every temp dir.
after(async () => {
  for (const dir of made.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

export interface Fixture {
  root: string;
  journal: Journal | undefined;
  real: RealHost;
  plan: PlannedChange[];
  log: ReturnType<typeof memoryLogger>;
  /** Reopen the journal from disk (what the next run would see). */
  reload(): Promise<Journal>;
}

/** A real Host over a fresh temp root (journal at <root>/var/lib/flexnode). */
export async function makeHost(options: Partial<RealHostOptions> & { root?: string } = {}): Promise<Fixture> {
  const root = options.root ?? (await makeTmp());
  const stateDir = '/var/lib/flexnode';
  const dryRun = options.dryRun ?? false;
  const journal = dryRun ? options.journal : (options.journal ?? (await Journal.open(join(root, stateDir))));
  const log = memoryLogger();
  const plan: PlannedChange[] = [];
  const real = createRealHost({
    root,
    dryRun,
    stateDir,
    journal,
    log,
    redact: (s) => s.split('hunter2').join('[redacted]'),
    plan,
    download: { idleTimeoutMs: 400, retries: 3, backoffMs: 10 },
    ...options,
  });
  return { root, journal, real, plan, log, reload: () => Journal.open(join(root, stateDir)) };
}

/** A full listing of a tree: path, type, mode, owner, size and content hash; for "nothing changed" checks. */
export async function treeListing(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(path: string, rel: string): Promise<void> {
    const stat = await fs.lstat(path);
    let extra = '';
    if (stat.isFile())
      extra = createHash('sha256')
        .update(await fs.readFile(path))
        .digest('hex');
    if (stat.isSymbolicLink()) extra = `-> ${await fs.readlink(path)}`;
    out.push(`${rel || '/'} ${stat.mode.toString(8)} ${stat.uid}:${stat.gid} ${stat.isDirectory() ? '' : stat.size} ${extra}`);
    if (stat.isDirectory()) for (const name of (await fs.readdir(path)).sort()) await walk(join(path, name), `${rel}/${name}`);
  }
  await walk(dir, '');
  return out;
}

export interface RawEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'FIFO';
  linkpath?: string;
  content?: string;
  mode?: number;
}

/** A tar built header by header, so that it can hold entries no well-behaved tool would write. */
export function rawTar(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.content ?? '');
    const type = entry.type ?? 'File';
    const header = new Header({
      path: entry.path,
      type,
      linkpath: entry.linkpath,
      mode: entry.mode ?? (type === 'Directory' ? 0o755 : 0o644),
      size: type === 'File' ? body.length : 0,
      mtime: new Date(0),
      uid: 0,
      gid: 0,
    });
    header.encode();
    blocks.push(header.block!);
    if (type === 'File' && body.length) blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Bytes this process read (read syscalls, /proc/self/io `rchar`) while `fn` ran: proof of what was not re-read. */
export async function bytesReadDuring(fn: () => Promise<unknown>): Promise<number> {
  const rchar = async () => Number(/^rchar: (\d+)$/m.exec(await fs.readFile('/proc/self/io', 'utf8'))![1]);
  // The counter is the whole process's: in a full test run, another test's leftover work (a flush, a poll) may
  // read during the window. The least of three runs of `fn` (it must be repeatable) counts only what it reads
  // every time.
  let least = Infinity;
  for (let i = 0; i < 3; i++) {
    const before = await rchar();
    await fn();
    // Minus the read of /proc/self/io itself, at most a few hundred bytes.
    least = Math.min(least, (await rchar()) - before);
  }
  return least;
}
