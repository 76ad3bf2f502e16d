import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { Arch } from '../config.js';
import { ChecksumError, DownloadError, ExecError } from '../errors.js';
import type { Artifact, ChecksumFile, Change, ExecOptions, ExecResult, FileInfo, Host, HostChanges, HostNotes, WriteOptions } from '../host.js';
import type { Logger } from '../logger.js';
import { checkNoteName } from '../host-notes.js';

/** A file held by the {@link MemoryHost}. */
export interface MemoryFile {
  content: Buffer;
  mode: number;
  uid: number;
  gid: number;
}

/** A fake command for the {@link MemoryHost}: gets the argv, returns the result. */
export type ExecHandler = (args: readonly string[], options: ExecOptions) => ExecResult | Promise<ExecResult>;

/** A recorded mutation, in order, for assertions: `{op: 'write', target: '/etc/x'}`. */
export interface RecordedOp {
  op: string;
  target: string;
  step: string;
}

/** Observable machine state of a MemoryHost, for comparing before and after a cycle. */
export interface MemorySnapshot {
  files: Record<string, { sha256: string; mode: number; uid: number; gid: number }>;
  dirs: string[];
  units: Record<string, { enabled: boolean; active: boolean }>;
  sysctls: Record<string, string>;
  modules: string[];
  packages: string[];
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * An in-memory machine implementing {@link Host}: files, units, sysctls, modules, packages and downloads live
 * in maps, every mutation is recorded in {@link MemoryHost.ops} and journaled per step like the real Host, so a
 * step's whole check/install/uninstall cycle can be tested without root. Use {@link MemoryHost.forStep} to get
 * the Host a given step sees.
 */
export class MemoryHost {
  readonly files = new Map<string, MemoryFile>();
  readonly dirs = new Set<string>(['/']);
  readonly units = new Map<string, { enabled: boolean; active: boolean }>();
  readonly sysctls = new Map<string, string>();
  readonly loadedModules = new Set<string>();
  readonly packages = new Set<string>();
  readonly ops: RecordedOp[] = [];
  readonly journal = new Map<string, Change[]>();
  readonly logLines: { level: string; message: string; step: string }[] = [];
  readonly execHandlers = new Map<string, ExecHandler>();
  readonly artifacts = new Map<string, { content: Buffer; entries?: Record<string, string | Buffer> }>();
  /** The steps' notes (`<step>/<name>` → JSON): not machine state, so not in snapshots. */
  readonly notes = new Map<string, string>();
  private backups = new Map<string, MemoryFile>();
  private stagingCount = 0;

  constructor(readonly options: { arch?: Arch; dryRun?: boolean; systemd?: boolean } = {}) {}

  /** Serve an artifact's bytes; `entries` are what `unpack` yields for it (path → content). */
  addArtifact(url: string, content: Buffer | string, entries?: Record<string, string | Buffer>): string {
    const buffer = Buffer.from(content);
    this.artifacts.set(url, { content: buffer, entries });
    return sha(buffer);
  }

  /** Fake an executable. Unknown commands fail with exit code 127. */
  onExec(command: string, handler: ExecHandler): this {
    this.execHandlers.set(command, handler);
    return this;
  }

  /** Put a file on the machine without journaling it (the machine's prior state). */
  seedFile(path: string, content: string | Buffer, mode = 0o644): this {
    this.ensureDirs(posix.dirname(path));
    this.files.set(path, { content: Buffer.from(content), mode, uid: 0, gid: 0 });
    return this;
  }

  /** Observable state: compare two snapshots to prove an uninstall restored the machine. */
  snapshot(): MemorySnapshot {
    const files: MemorySnapshot['files'] = {};
    for (const [path, file] of [...this.files].sort(([a], [b]) => a.localeCompare(b))) {
      if (path.startsWith('/.staging/')) continue;
      files[path] = { sha256: sha(file.content), mode: file.mode, uid: file.uid, gid: file.gid };
    }
    return {
      files,
      dirs: [...this.dirs].filter((d) => !d.startsWith('/.staging')).sort(),
      units: Object.fromEntries(
        [...this.units]
          .sort(([a], [b]) => a.localeCompare(b))
          .filter(([, u]) => u.enabled || u.active)
          .map(([name, u]) => [name, { ...u }]),
      ),
      sysctls: Object.fromEntries([...this.sysctls].sort(([a], [b]) => a.localeCompare(b))),
      modules: [...this.loadedModules].sort(),
      packages: [...this.packages].sort(),
    };
  }

  /**
   * The Host a step sees: its changes are journaled under `stepId`. `dryRun` gives the plan's view of the same
   * machine (default: the machine's own `dryRun` option).
   */
  forStep(stepId: string, options: { dryRun?: boolean } = {}): Host {
    return new StepView(this, stepId, options.dryRun ?? !!this.options.dryRun);
  }

  /** @internal */ record(step: string, op: string, target: string): void {
    this.ops.push({ op, target, step });
  }
  /** @internal */ changesOf(step: string): Change[] {
    let list = this.journal.get(step);
    if (!list) this.journal.set(step, (list = []));
    return list;
  }
  /** @internal */ ensureDirs(dir: string): void {
    for (let d = dir; !this.dirs.has(d); d = posix.dirname(d)) this.dirs.add(d);
  }
  /** @internal */ backup(file: MemoryFile): string {
    const id = sha(file.content);
    this.backups.set(id, { ...file, content: Buffer.from(file.content) });
    return id;
  }
  /** @internal */ restore(id: string): MemoryFile {
    const file = this.backups.get(id);
    if (!file) throw new Error(`memory host: no backup ${id}`);
    return { ...file, content: Buffer.from(file.content) };
  }
  /** @internal */ nextStaging(): string {
    return `/.staging/${++this.stagingCount}`;
  }
}

/** The per-step view of a MemoryHost. */
class StepView implements Host {
  readonly root = '/';
  readonly arch: Arch;
  readonly log: Logger;

  constructor(
    private readonly m: MemoryHost,
    private readonly step: string,
    readonly dryRun: boolean,
  ) {
    this.arch = m.options.arch ?? 'amd64';
    const line = (level: string) => (message: string) => m.logLines.push({ level, message, step });
    this.log = { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
  }

  /** Journal a change, then (outside a dry run) apply it: the journal always knows what to undo. */
  private mutate(change: Change | undefined, op: string, target: string, apply: () => void): true {
    this.m.record(this.step, op, target);
    if (this.dryRun) return true;
    if (change) this.m.changesOf(this.step).push(change);
    apply();
    return true;
  }

  private before(path: string): Change & { kind: 'file' } {
    const file = this.m.files.get(path);
    if (file) {
      return {
        kind: 'file',
        path,
        before: { exists: true, type: 'file', mode: file.mode, uid: file.uid, gid: file.gid, sha256: sha(file.content), backup: this.m.backup(file) },
      };
    }
    if (this.m.dirs.has(path)) return { kind: 'file', path, before: { exists: true, type: 'dir', mode: 0o755, uid: 0, gid: 0 } };
    return { kind: 'file', path, before: { exists: false } };
  }

  /** Create missing directories outermost first, each journaled so revert removes it when empty. */
  private mkdirs(dir: string): boolean {
    const missingDirs: string[] = [];
    for (let d = dir; !this.m.dirs.has(d); d = posix.dirname(d)) missingDirs.unshift(d);
    for (const d of missingDirs) this.mutate({ kind: 'mkdir', path: d }, 'mkdir', d, () => this.m.dirs.add(d));
    return missingDirs.length > 0;
  }

  private journaledBefore(path: string): boolean {
    return this.m.changesOf(this.step).some((c) => c.kind === 'file' && c.path === path);
  }

  readonly files = {
    read: async (path: string) => {
      const f = this.m.files.get(path);
      return f ? Buffer.from(f.content) : undefined;
    },
    readText: async (path: string) => this.m.files.get(path)?.content.toString('utf8'),
    stat: async (path: string): Promise<FileInfo | undefined> => {
      const f = this.m.files.get(path);
      if (f) return { type: 'file', mode: f.mode, uid: f.uid, gid: f.gid, size: f.content.length };
      if (this.m.dirs.has(path)) return { type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 };
      return undefined;
    },
    sha256: async (path: string) => {
      const f = this.m.files.get(path);
      return f ? sha(f.content) : undefined;
    },
    list: async (path: string) => {
      const prefix = path.endsWith('/') ? path : `${path}/`;
      const names = new Set<string>();
      for (const p of [...this.m.files.keys(), ...this.m.dirs]) {
        if (p.startsWith(prefix) && p !== prefix) names.add(p.slice(prefix.length).split('/')[0]!);
      }
      return [...names].sort();
    },
    write: async (path: string, content: string | Buffer, options: WriteOptions = {}) => {
      const data = Buffer.from(content);
      const mode = options.mode ?? (options.secret ? 0o600 : 0o644);
      const uid = options.uid ?? 0;
      const gid = options.gid ?? 0;
      const cur = this.m.files.get(path);
      if (cur && cur.content.equals(data) && cur.mode === mode && cur.uid === uid && cur.gid === gid) return false;
      this.mkdirs(posix.dirname(path));
      const change = this.journaledBefore(path) ? undefined : this.before(path);
      return this.mutate(change, 'write', path, () => {
        this.m.files.set(path, { content: data, mode, uid, gid });
      });
    },
    copyFrom: async (source: string, path: string, options: WriteOptions = {}) => {
      const src = this.m.files.get(source);
      if (!src) throw new Error(`memory host: copy source ${source} does not exist`);
      return this.files.write(path, src.content, { mode: src.mode, ...options });
    },
    mkdir: async (path: string) => this.mkdirs(path),
    remove: async (path: string) => {
      if (!this.m.files.has(path) && !this.m.dirs.has(path)) return false;
      const change = this.journaledBefore(path) ? undefined : this.before(path);
      return this.mutate(change, 'remove', path, () => {
        this.m.files.delete(path);
        this.m.dirs.delete(path);
      });
    },
  };

  readonly exec = {
    run: async (command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> => {
      const mutates = options.mutates !== false;
      if (mutates) {
        this.m.record(this.step, 'exec', [command, ...args].join(' '));
        if (this.dryRun) return { exitCode: 0, stdout: '', stderr: '' };
        this.m.changesOf(this.step).push({ kind: 'exec', command, args: [...args], describe: options.describe });
      }
      const handler = this.m.execHandlers.get(command);
      const result = handler ? await handler(args, options) : { exitCode: 127, stdout: '', stderr: `${command}: not found` };
      if (result.exitCode !== 0 && !options.allowFailure) throw new ExecError(command, result.exitCode, result.stderr);
      return result;
    },
    which: async (command: string) => (this.m.execHandlers.has(command) ? `/usr/bin/${command}` : undefined),
  };

  private get managed(): boolean {
    return this.m.options.systemd !== false;
  }

  readonly systemd = {
    available: async () => this.managed,
    daemonReload: async () => {
      this.m.record(this.step, 'daemon-reload', '');
    },
    enable: (unit: string) => this.unitState(unit, 'enabled', true),
    disable: (unit: string) => this.unitState(unit, 'enabled', false),
    start: (unit: string) => this.unitState(unit, 'active', true),
    stop: (unit: string) => this.unitState(unit, 'active', false),
    restart: async (unit: string) => {
      const u = this.unit(unit);
      // As the real Host: restarting a stopped unit starts it, and that start is journaled.
      const change: Change | undefined = u.active ? undefined : { kind: 'unit-started', unit, wasActive: false };
      this.mutate(change, 'restart', unit, () => {
        if (this.managed) u.active = true;
      });
    },
    isActive: async (unit: string) => this.m.units.get(unit)?.active ?? false,
    isEnabled: async (unit: string) => this.m.units.get(unit)?.enabled ?? false,
  };

  private unit(name: string) {
    let u = this.m.units.get(name);
    if (!u) this.m.units.set(name, (u = { enabled: false, active: false }));
    return u;
  }

  private async unitState(unit: string, field: 'enabled' | 'active', value: boolean): Promise<boolean> {
    const u = this.unit(unit);
    if (u[field] === value) return false;
    const change: Change =
      field === 'enabled'
        ? { kind: value ? 'unit-enabled' : 'unit-disabled', unit, wasEnabled: u.enabled }
        : { kind: value ? 'unit-started' : 'unit-stopped', unit, wasActive: u.active };
    return this.mutate(change, `${field === 'enabled' ? (value ? 'enable' : 'disable') : value ? 'start' : 'stop'}`, unit, () => {
      // Without a service manager (the real Host under a sandbox root) a start or stop is journaled, not performed.
      if (field === 'enabled' || this.managed) u[field] = value;
    });
  }

  readonly sysctl = {
    get: async (key: string) => this.m.sysctls.get(key),
    set: async (key: string, value: string) => {
      const before = this.m.sysctls.get(key);
      if (before === value) return false;
      return this.mutate({ kind: 'sysctl', key, before }, 'sysctl', `${key}=${value}`, () => this.m.sysctls.set(key, value));
    },
  };

  readonly modules = {
    isLoaded: async (name: string) => this.m.loadedModules.has(name),
    load: async (name: string) => {
      if (this.m.loadedModules.has(name)) return false;
      return this.mutate({ kind: 'module', name }, 'modprobe', name, () => this.m.loadedModules.add(name));
    },
  };

  readonly apt = {
    isInstalled: async (pkg: string) => this.m.packages.has(pkg),
    install: async (packages: readonly string[]) => {
      const wanted = packages.filter((p) => !this.m.packages.has(p));
      for (const name of wanted) this.mutate({ kind: 'package', name }, 'apt-install', name, () => this.m.packages.add(name));
      return wanted.length > 0;
    },
  };

  readonly downloads = {
    fetch: async (artifact: Artifact) => {
      this.m.record(this.step, 'download', artifact.url);
      const served = this.m.artifacts.get(artifact.url);
      if (this.dryRun) return `/.staging/dry-run/${posix.basename(artifact.mirrorPath)}`;
      if (!served) throw new DownloadError(artifact.name, artifact.url, 'HTTP 404');
      const actual = sha(served.content);
      if (actual !== artifact.sha256) throw new ChecksumError(artifact.name, artifact.sha256, actual, artifact.url);
      const path = `/.staging/downloads/${actual}`;
      this.m.ensureDirs('/.staging/downloads');
      this.m.files.set(path, { content: served.content, mode: 0o644, uid: 0, gid: 0 });
      return path;
    },
    checksum: async (file: ChecksumFile) => {
      this.m.record(this.step, 'checksum', file.url);
      const served = this.m.artifacts.get(file.url);
      if (!served) throw new DownloadError(`the published sha256 of ${file.name}`, file.url, 'HTTP 404');
      const digest = /^([0-9a-fA-F]{64})(\s|$)/.exec(served.content.toString('utf8').trim())?.[1];
      if (!digest) throw new DownloadError(`the published sha256 of ${file.name}`, file.url, 'it holds no sha256');
      return digest.toLowerCase();
    },
    unpack: async (archivePath: string) => {
      const dir = this.m.nextStaging();
      if (this.dryRun) return dir;
      const archive = this.m.files.get(archivePath);
      const entry = [...this.m.artifacts.values()].find((a) => archive && a.content.equals(archive.content));
      if (!entry?.entries) throw new Error(`memory host: ${archivePath} has no entries registered with addArtifact`);
      for (const [name, content] of Object.entries(entry.entries)) {
        this.m.ensureDirs(posix.dirname(`${dir}/${name}`));
        this.m.files.set(`${dir}/${name}`, { content: Buffer.from(content), mode: 0o755, uid: 0, gid: 0 });
      }
      return dir;
    },
  };

  readonly notes: HostNotes = {
    read: async <T>(name: string) => {
      const text = this.m.notes.get(`${this.step}/${checkNoteName(name)}`);
      return text === undefined ? undefined : (JSON.parse(text) as T);
    },
    // Not a change to the machine (no op recorded), and kept in dry runs too, as the real Host does.
    write: async (name: string, value: unknown) => {
      this.m.notes.set(`${this.step}/${checkNoteName(name)}`, JSON.stringify(value));
    },
  };

  readonly changes: HostChanges = {
    list: () => [...this.m.changesOf(this.step)],
    record: async (type, data) => {
      this.m.record(this.step, 'record', type);
      if (!this.dryRun) this.m.changesOf(this.step).push({ kind: 'custom', type, data });
    },
    forget: async (type, match) => {
      const list = this.m.changesOf(this.step);
      const kept = list.filter((c) => !(c.kind === 'custom' && c.type === type && (!match || match(c.data))));
      list.splice(0, list.length, ...kept);
    },
    revert: async () => {
      const list = this.m.changesOf(this.step);
      for (let i = list.length - 1; i >= 0; i--) {
        const change = list[i]!;
        // As the real Host: records stay; a command cannot be undone and stays journaled; a module flexnode
        // loaded stays loaded (unloading a module in use is unsafe).
        if (change.kind === 'custom' || change.kind === 'exec' || change.kind === 'module') continue;
        this.m.record(this.step, 'revert', change.kind);
        if (this.dryRun) continue;
        this.undo(change);
        list.splice(i, 1);
      }
    },
  };

  private undo(change: Change): void {
    const m = this.m;
    switch (change.kind) {
      case 'file':
        m.files.delete(change.path);
        if (change.before.exists && change.before.type === 'file') m.files.set(change.path, m.restore(change.before.backup));
        if (!change.before.exists) m.dirs.delete(change.path);
        return;
      case 'mkdir':
        if (![...m.files.keys(), ...m.dirs].some((p) => p.startsWith(`${change.path}/`))) m.dirs.delete(change.path);
        return;
      case 'unit-enabled':
      case 'unit-disabled':
        this.unit(change.unit).enabled = change.wasEnabled;
        return;
      case 'unit-started':
      case 'unit-stopped':
        this.unit(change.unit).active = change.wasActive;
        return;
      case 'sysctl':
        if (change.before === undefined) m.sysctls.delete(change.key);
        else m.sysctls.set(change.key, change.before);
        return;
      case 'package':
        m.packages.delete(change.name);
        return;
      case 'module':
      case 'exec':
      case 'custom':
        return;
    }
  }
}
