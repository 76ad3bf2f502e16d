import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/atomic-write.js';

export const MANIFEST = 'manifest.json';

/** One file of the mirror as manifest.json lists it. */
export interface ManifestEntry {
  /** Path under the mirror, `<component>/v<version>/<file>`. */
  file: string;
  size: number;
  sha256: string;
  /** Where it was downloaded from. */
  source: string;
  /** The artifact's name (`containerd 1.7.22 (amd64)`), or what the checksum file is for. */
  name: string;
  /** Where its expected sha256 came from: `pinned`, or the URL of the published checksum file. */
  verifiedWith: string;
}

export interface Manifest {
  version: 1;
  generatedAt: string;
  files: ManifestEntry[];
}

/** The previous manifest's entries by file, or none when it is missing or unreadable (it is rebuilt). */
export async function readManifest(dir: string): Promise<Map<string, ManifestEntry>> {
  try {
    const data = JSON.parse(await fs.readFile(join(dir, MANIFEST), 'utf8')) as Partial<Manifest>;
    const files = Array.isArray(data.files) ? data.files : [];
    return new Map(files.filter((e) => typeof e?.file === 'string' && typeof e.sha256 === 'string').map((e) => [e.file, e]));
  } catch {
    return new Map();
  }
}

/** Write manifest.json atomically, 0644, entries sorted by path. */
export async function writeManifest(dir: string, entries: Iterable<ManifestEntry>): Promise<Manifest> {
  const manifest: Manifest = { version: 1, generatedAt: new Date().toISOString(), files: [...entries].sort((a, b) => a.file.localeCompare(b.file)) };
  await writeFileAtomic(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o644 });
  return manifest;
}
