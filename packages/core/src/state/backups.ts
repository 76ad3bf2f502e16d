import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { diskFullError, fsyncDir, TEMP_PREFIX } from './atomic-write.js';

/**
 * Content-addressed copies of file contents a step replaced: `<dir>/<sha256>`, mode 0600 (they may hold
 * secrets such as an old kubeconfig). Backing up the same content twice costs nothing.
 */
export class BackupStore {
  constructor(readonly dir: string) {}

  /** The path of a backup by its id (the sha256 of the content). */
  path(id: string): string {
    if (!/^[0-9a-f]{64}$/.test(id)) throw new Error(`invalid backup id ${JSON.stringify(id)}`);
    return join(this.dir, id);
  }

  async has(id: string): Promise<boolean> {
    return fs.access(this.path(id)).then(
      () => true,
      () => false,
    );
  }

  /**
   * Copy a file into the store and return its id. Content already stored costs one read (hash, no copy). The copy
   * is hashed while it is written, so the id always matches what was stored even if the file changed meanwhile.
   */
  async saveFile(source: string): Promise<string> {
    const known = await hashFile(source);
    if (await this.has(known)) return known;
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const temp = join(this.dir, `${TEMP_PREFIX}backup.${randomBytes(6).toString('hex')}`);
    const hash = createHash('sha256');
    const handle = await fs.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      for await (const chunk of createReadStream(source)) {
        const buffer = chunk as Buffer;
        hash.update(buffer);
        for (let offset = 0; offset < buffer.length;) offset += (await handle.write(buffer, offset)).bytesWritten;
      }
      await handle.sync();
      await handle.close();
      const id = hash.digest('hex');
      if (await this.has(id)) await fs.rm(temp, { force: true });
      else {
        await fs.rename(temp, this.path(id));
        await fsyncDir(this.dir);
      }
      return id;
    } catch (error) {
      await handle.close().catch(() => undefined);
      await fs.rm(temp, { force: true }).catch(() => undefined);
      throw diskFullError(error, join(this.dir, '<backup>'));
    }
  }
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
