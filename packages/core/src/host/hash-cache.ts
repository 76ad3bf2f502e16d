import { promises as fs } from 'node:fs';
import { writeFileAtomic } from '../state/atomic-write.js';
import { sha256File } from './files.js';

interface Entry {
  key: string;
  sha256: string;
}

/** Identity of a file's content as the kernel sees it: any write changes ctime (which no tool can set). */
async function statKey(path: string): Promise<string | undefined> {
  try {
    const st = await fs.stat(path, { bigint: true });
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/**
 * sha256 of files, remembered by (device, inode, size, mtime, ctime) the way git's index does, so a converged
 * check of large binaries costs a stat instead of reading them. Persisted in the state dir (mode 0600) unless
 * `persist` is false (dry runs change nothing on disk; they still read the saved cache).
 */
export class HashCache {
  private entries = new Map<string, Entry>();
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
    const cached = this.entries.get(path);
    if (cached?.key === before) return cached.sha256;
    const sha256 = await sha256File(path);
    // Only a file that did not change while it was read is remembered.
    if (sha256 !== undefined && (await statKey(path)) === before) {
      this.entries.set(path, { key: before, sha256 });
      this.dirty = true;
    }
    return sha256;
  }

  async save(): Promise<void> {
    if (!this.persist || !this.dirty) return;
    await writeFileAtomic(this.file, JSON.stringify(Object.fromEntries(this.entries)), { mode: 0o600 });
    this.dirty = false;
  }
}
