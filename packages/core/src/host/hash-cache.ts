import { promises as fs } from 'node:fs';
import { writeFileAtomic } from '../state/atomic-write.js';
import { sha256File } from './files.js';
import { statBigNow } from './read-now.js';

interface Entry {
  key: string;
  sha256: string;
}

/** Identity of a file's content as the kernel sees it: any write changes ctime (which no tool can set). */
async function statKey(path: string): Promise<string | undefined> {
  const st = statBigNow(path);
  return st && `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/**
 * sha256 of files, remembered by (device, inode, size, mtime, ctime) the way git's index does, so a converged
 * check of large binaries costs a stat instead of reading them. Persisted in the state dir (mode 0600) unless
 * `persist` is false (dry runs change nothing on disk; they still read the saved cache).
 */
export class HashCache {
  private entries = new Map<string, Entry>();
  /** Entries of this run only (files in staging, gone by the end of the run): never saved. */
  private transient = new Map<string, Entry>();
  private loaded?: Promise<void>;
  private dirty = false;

  constructor(
    private readonly file: string,
    private readonly persist: boolean,
  ) {}

  private load(): Promise<void> {
    this.loaded ??= fs.readFile(this.file, 'utf8').then(
      (text) => {
        const data = JSON.parse(text) as Record<string, Entry>;
        this.entries = new Map(Object.entries(data));
      },
      () => undefined, // absent or unreadable: start empty, it is only a cache
    );
    return this.loaded;
  }

  async sha256(path: string): Promise<string | undefined> {
    await this.load();
    const before = await statKey(path);
    if (before === undefined) {
      if (this.entries.delete(path)) this.dirty = true;
      return undefined;
    }
    const cached = this.lookup(path, before);
    if (cached !== undefined) return cached;
    const sha256 = await sha256File(path);
    // Only a file that did not change while it was read is remembered.
    if (sha256 !== undefined && (await statKey(path)) === before) {
      this.entries.set(path, { key: before, sha256 });
      this.dirty = true;
    }
    return sha256;
  }

  /** The sha256 of a file when it is known without reading it (same stat identity as when it was hashed). */
  async known(path: string): Promise<string | undefined> {
    await this.load();
    if (!this.transient.has(path) && !this.entries.has(path)) return undefined;
    const key = await statKey(path);
    return key === undefined ? undefined : this.lookup(path, key);
  }

  private lookup(path: string, key: string): string | undefined {
    for (const entry of [this.transient.get(path), this.entries.get(path)]) if (entry?.key === key) return entry.sha256;
    return undefined;
  }

  /**
   * Remember the sha256 of a file whose bytes this process just hashed while writing them (a download, an
   * unpacked entry, a copy of a file of known hash), so that nobody reads it again to learn it. Call it once the
   * file is final (after its rename, chmod, utimes: they change the ctime). `persist: false` keeps it out of the
   * saved cache (staging files, removed at the end of the run).
   */
  async remember(path: string, sha256: string, options: { persist?: boolean } = {}): Promise<void> {
    await this.load();
    const key = await statKey(path);
    if (key === undefined) return;
    if (options.persist === false) {
      this.transient.set(path, { key, sha256 });
      return;
    }
    this.entries.set(path, { key, sha256 });
    this.dirty = true;
  }

  async save(): Promise<void> {
    if (!this.persist || !this.dirty) return;
    await writeFileAtomic(this.file, JSON.stringify(Object.fromEntries(this.entries)), { mode: 0o600 });
    this.dirty = false;
  }
}
