import type { Host } from '@flexnode/sdk';

/** The fields of os-release(5) the Arc agent's package source depends on. */
export interface OsRelease {
  /** `ubuntu`, `debian`, ... (lower case). */
  id: string;
  /** `22.04`, `12`, ... */
  versionId: string;
  /** `jammy`, `bookworm`, ... when the file says. */
  codename?: string;
  /** For messages: `Ubuntu 22.04.4 LTS`. */
  prettyName: string;
}

/** Parse os-release(5): KEY=value lines, values optionally quoted. */
export function parseOsRelease(text: string): OsRelease {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) fields[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  const id = (fields.ID ?? '').toLowerCase();
  const versionId = fields.VERSION_ID ?? '';
  return {
    id,
    versionId,
    codename: fields.VERSION_CODENAME || fields.UBUNTU_CODENAME || undefined,
    prettyName: fields.PRETTY_NAME ?? (`${id} ${versionId}`.trim() || 'an unknown distribution'),
  };
}

/** The machine's release, read through the Host (`/etc/os-release`, else `/usr/lib/os-release`). */
export async function readOsRelease(host: Host): Promise<OsRelease | undefined> {
  const text = (await host.files.readText('/etc/os-release')) ?? (await host.files.readText('/usr/lib/os-release'));
  return text === undefined ? undefined : parseOsRelease(text);
}
