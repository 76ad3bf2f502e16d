import { promises as fs } from 'node:fs';

/** dpkg's database of installed packages: the file `dpkg-query` reads (dpkg(1), "Files"). */
export const DPKG_STATUS_FILE = '/var/lib/dpkg/status';

interface Record {
  arch: string;
  /** The third word of `Status:` (want, error flag, status): installed, config-files, half-installed, ... */
  state: string;
  ok: boolean;
}

/** Parsed databases by path, kept while the file is the same (dpkg replaces it by rename on every change). */
const parsed = new Map<string, { key: string; packages: Map<string, Record[]> }>();

/**
 * Whether a package (`name` or `name:arch`) is installed, read from dpkg's database: what
 * `dpkg-query -W -f='${Status}'` answers, without a process per package (a fork costs more than reading a few
 * hundred kB once; the agent asks every cycle in apt mode). `undefined` when there is no such database (not a
 * dpkg system) or it cannot be read: the caller asks dpkg-query then. A held package counts as installed.
 */
export async function dpkgInstalled(pkg: string, file: string = DPKG_STATUS_FILE): Promise<boolean | undefined> {
  const packages = await load(file);
  if (!packages) return undefined;
  const [name, arch] = pkg.split(':');
  return (packages.get(name!) ?? []).some((r) => r.ok && INSTALLED.has(r.state) && (!arch || r.arch === arch || r.arch === 'all'));
}

/** The names of the installed packages, or undefined when there is no dpkg database to read. */
export async function dpkgInstalledNames(file: string = DPKG_STATUS_FILE): Promise<Set<string> | undefined> {
  const packages = await load(file);
  if (!packages) return undefined;
  return new Set([...packages].filter(([, records]) => records.some((r) => r.ok && INSTALLED.has(r.state))).map(([name]) => name));
}

/** Unpacked and configured; triggers still to run do not make it absent. */
const INSTALLED = new Set(['installed', 'triggers-pending', 'triggers-awaited']);

async function load(file: string): Promise<Map<string, Record[]> | undefined> {
  const info = await fs.stat(file).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  const key = `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;
  const hit = parsed.get(file);
  if (hit?.key === key) return hit.packages;
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const packages = parseStatus(text);
  parsed.set(file, { key, packages });
  return packages;
}

/**
 * Package → its records (one per architecture installed), from the deb822 paragraphs of the database. Only
 * the three fields needed and the blank lines between paragraphs are matched, by one regular expression over
 * the whole text (splitting a database of a few MB into lines costs tens of ms).
 */
export function parseStatus(text: string): Map<string, Record[]> {
  const packages = new Map<string, Record[]>();
  let name: string | undefined;
  let status: string | undefined;
  let arch = '';
  const flush = () => {
    if (name && status) {
      const [, flag, state] = status.split(/\s+/);
      const list = packages.get(name) ?? packages.set(name, []).get(name)!;
      list.push({ arch, state: state ?? '', ok: flag === 'ok' });
    }
    name = status = undefined;
    arch = '';
  };
  // A blank line (no field matched) ends a paragraph.
  for (const [, field, value] of text.matchAll(/^(?:(Package|Status|Architecture): *(.*))?$/gm)) {
    if (field === undefined) flush();
    else if (field === 'Package') {
      flush();
      name = value!.trim();
    } else if (field === 'Status') status = value!.trim();
    else arch = value!.trim();
  }
  flush();
  return packages;
}
