import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';

/** path → type, mode, owner and content hash, for comparing a directory tree before and after. */
export async function treeSnapshot(root: string, exclude: (rel: string) => boolean = () => false): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(dir: string): Promise<void> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const path = join(dir, name);
      const rel = `/${relative(root, path)}`;
      if (exclude(rel)) continue;
      const st = await lstat(path);
      const meta = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isDirectory()) {
        out[rel] = `dir ${meta}`;
        await walk(path);
      } else if (st.isSymbolicLink()) out[rel] = `link ${await readlink(path)}`;
      // A fifo or a device is never read (a fifo would block the snapshot forever).
      else if (!st.isFile()) out[rel] = `other ${meta}`;
      else
        out[rel] = `file ${meta} ${createHash('sha256')
          .update(await readFile(path))
          .digest('hex')}`;
    }
  }
  await walk(root);
  return out;
}
