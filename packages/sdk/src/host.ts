import type { Arch } from './config.js';
import type { Logger } from './logger.js';

/**
 * Everything a step may do to the machine. Steps never touch node:fs, child_process or the network
 * themselves: the Host applies every path under the `--root` prefix, journals each change with the state
 * it replaced (so uninstall and `unbootstrap` can restore it), and in a dry run records instead of acting.
 *
 * Paths are absolute paths of the target machine (`/etc/containerd/config.toml`), never prefixed by the step.
 */
export interface Host {
  /** The prefix every path is applied under; `/` on a real node. */
  readonly root: string;
  /** True in `plan` / `--dry-run`: changes are recorded, not made. */
  readonly dryRun: boolean;
  /** The machine's architecture. */
  readonly arch: Arch;
  readonly files: HostFiles;
  readonly exec: HostExec;
  readonly systemd: HostSystemd;
  readonly sysctl: HostSysctl;
  readonly modules: HostModules;
  readonly downloads: HostDownloads;
  readonly apt: HostApt;
  /** The changes journaled for the current step, and the undo of them. */
  readonly changes: HostChanges;
  /** The step's notes: what its checks observed (not changes; never journaled). */
  readonly notes: HostNotes;
  readonly log: Logger;
}

/**
 * A step's small notes about what it observed, kept in flexnode's state directory outside the journal: for
 * example when the API server last answered, which `flexnode status` by hand and the agent both need to know.
 * They are not changes to the machine: read-only runs and dry runs write them too. Nothing is written on a
 * machine flexnode holds no state on (never bootstrapped, or unbootstrapped); they go with the state directory.
 */
export interface HostNotes {
  /** The note `name` of this step (a JSON value), or undefined when there is none. */
  read<T = unknown>(name: string): Promise<T | undefined>;
  /** Keep `value` (JSON) as the note `name` of this step, atomically. `name`: lowercase letters, digits, `-`. */
  write(name: string, value: unknown): Promise<void>;
}

/** File metadata as the Host reports it. */
export interface FileInfo {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  size: number;
}

/** Options of a file write. */
export interface WriteOptions {
  /** Permission bits, default 0o644 (0o600 when `secret`). */
  mode?: number;
  uid?: number;
  gid?: number;
  /** The content is a secret: mode 0600 unless told otherwise, never logged or shown in a plan. */
  secret?: boolean;
}

export interface HostFiles {
  /** The content, or undefined when the file does not exist. */
  read(path: string): Promise<Buffer | undefined>;
  /** The content as UTF-8, or undefined when the file does not exist. */
  readText(path: string): Promise<string | undefined>;
  /** Metadata without following a final symlink, or undefined when nothing is there. */
  stat(path: string): Promise<FileInfo | undefined>;
  /** The sha256 (hex) of a file's content, or undefined when it does not exist. */
  sha256(path: string): Promise<string | undefined>;
  /** Entries of a directory, or [] when it does not exist. */
  list(path: string): Promise<string[]>;
  /**
   * Write atomically (temp file, fsync, rename) with mode and owner, creating parent directories.
   * Returns false, and journals nothing, when content, mode and owner are already as asked.
   */
  write(path: string, content: string | Buffer, options?: WriteOptions): Promise<boolean>;
  /** Copy a local file (e.g. one unpacked from a verified download) into place atomically. */
  copyFrom(source: string, path: string, options?: WriteOptions): Promise<boolean>;
  /** Create a directory (and parents); journaled so that uninstall removes it when it is empty. */
  mkdir(path: string, options?: { mode?: number }): Promise<boolean>;
  /** Remove a file or an empty directory; the previous content is journaled. False when absent. */
  remove(path: string): Promise<boolean>;
}

/** The outcome of a command. */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Written to the command's standard input (use it for secrets instead of argv). */
  input?: string | Buffer;
  env?: Record<string, string>;
  /** Default 120 s. */
  timeoutMs?: number;
  /** Resolve with a non-zero exit code instead of throwing {@link ExecError}. */
  allowFailure?: boolean;
  /** Strings to redact from logs and error messages (tokens, secrets passed on stdin, ...). */
  secrets?: string[];
  /**
   * False for commands that only read state (version probes, `azcmagent show`): they run in a dry run too.
   * Default true: in a dry run the command is recorded and not run.
   */
  mutates?: boolean;
  /** A journal note for a mutating command, e.g. `{kind: 'connected', ...}`; shown in plans. */
  describe?: string;
}

export interface HostExec {
  /** Run an executable with an argument array (never a shell string). */
  run(command: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** The absolute path of an executable on the machine's PATH, or undefined. */
  which(command: string): Promise<string | undefined>;
}

export interface HostSystemd {
  /** Whether a service manager is running that start/stop/isActive can talk to. */
  available(): Promise<boolean>;
  daemonReload(): Promise<void>;
  /** Enable a unit (journaled with its previous state). */
  enable(unit: string): Promise<boolean>;
  disable(unit: string): Promise<boolean>;
  /** Start a unit (journaled with its previous state). */
  start(unit: string): Promise<boolean>;
  stop(unit: string): Promise<boolean>;
  restart(unit: string): Promise<void>;
  isActive(unit: string): Promise<boolean>;
  isEnabled(unit: string): Promise<boolean>;
}

export interface HostSysctl {
  /** The live value, or undefined when the key does not exist. */
  get(key: string): Promise<string | undefined>;
  /** Set the live value now (journaled with the previous value). */
  set(key: string, value: string): Promise<boolean>;
}

export interface HostModules {
  /** True when loaded, or built into the kernel (/sys/module/NAME exists). */
  isLoaded(name: string): Promise<boolean>;
  /** Load with modprobe unless already loaded. */
  load(name: string): Promise<boolean>;
}

/** A release artifact with its pinned checksum. */
export interface Artifact {
  /** Human name used in messages, e.g. `containerd 1.7.20 (amd64)`. */
  name: string;
  /** The upstream URL. */
  url: string;
  /** Path under a configured mirror base URL: `<component>/v<version>/<file>`. */
  mirrorPath: string;
  /** Expected sha256, lowercase hex. */
  sha256: string;
}

/**
 * A checksum file published beside an artifact (dl.k8s.io's `<file>.sha256`), for artifacts whose sha256 no table
 * pins: the digest is fetched, then the artifact is verified against it like a pinned one.
 */
export interface ChecksumFile {
  /** The artifact it is the checksum of, for messages, e.g. `kubelet 1.35.2 (amd64)`. */
  name: string;
  /** Its upstream URL; must be https (a checksum fetched in clear text proves nothing). */
  url: string;
  /** Path under a configured mirror, beside the artifact's: `<component>/v<version>/<file>.sha256`. */
  mirrorPath: string;
}

export interface HostDownloads {
  /**
   * Fetch an artifact (from the mirror when configured), hashing while streaming; verified before the path
   * is returned, cached by checksum, retried on transient failures. Throws {@link ChecksumError} on mismatch.
   * In a dry run nothing is fetched and the returned path must not be read.
   */
  fetch(artifact: Artifact): Promise<string>;
  /**
   * The sha256 a checksum file publishes (the bare hex digest, or `sha256sum` output): from the mirror when one is
   * configured, else over HTTPS from its URL. Read-only, so a dry run fetches it too. Throws {@link DownloadError}
   * when it cannot be fetched or holds no sha256.
   */
  checksum(file: ChecksumFile): Promise<string>;
  /**
   * Unpack a verified tar(.gz) into a private staging directory and return its path. Entries with absolute
   * paths, `..` components, links pointing outside, or devices are refused before anything is written.
   */
  unpack(archivePath: string): Promise<string>;
}

export interface HostApt {
  isInstalled(pkg: string): Promise<boolean>;
  /** apt-get install; journaled so that uninstall removes only what flexnode installed. */
  install(packages: readonly string[]): Promise<boolean>;
}

/** A journaled change: what was done and what it replaced. */
export type Change =
  | { kind: 'file'; path: string; before: FileBefore }
  | { kind: 'mkdir'; path: string }
  | { kind: 'unit-enabled'; unit: string; wasEnabled: boolean }
  | { kind: 'unit-disabled'; unit: string; wasEnabled: boolean }
  | { kind: 'unit-started'; unit: string; wasActive: boolean }
  | { kind: 'unit-stopped'; unit: string; wasActive: boolean }
  | { kind: 'sysctl'; key: string; before: string | undefined }
  | { kind: 'module'; name: string }
  | { kind: 'package'; name: string }
  | { kind: 'exec'; command: string; args: string[]; describe?: string }
  | { kind: 'custom'; type: string; data: Record<string, unknown> };

/** What a path held before a step changed it. `backup` names a saved copy of the old content. */
export type FileBefore =
  | { exists: false }
  | { exists: true; type: 'file'; mode: number; uid: number; gid: number; sha256: string; backup: string }
  | { exists: true; type: 'symlink'; target: string }
  | { exists: true; type: 'dir'; mode: number; uid: number; gid: number };

export interface HostChanges {
  /** The changes journaled for this step, oldest first. */
  list(): readonly Change[];
  /** Journal a change the Host cannot see (an Azure resource created, an agent connected). */
  record(type: string, data: Record<string, unknown>): Promise<void>;
  /**
   * Undo this step's journaled changes, newest first: files restored or removed, directories removed when
   * empty, units and sysctls put back, packages removed. Custom records are left to the step, which removes
   * them with {@link HostChanges.forget} once undone.
   */
  revert(): Promise<void>;
  /** Drop custom records of a type (after the step undid them). */
  forget(type: string, match?: (data: Record<string, unknown>) => boolean): Promise<void>;
}
