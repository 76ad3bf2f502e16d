import { quietly, readTextNow, statNow } from './read-now.js';

/** dpkg's database of installed packages: the file `dpkg-query` reads (dpkg(1), "Files"). */
export const DPKG_STATUS_FILE = '/var/lib/dpkg/status';

interface Record {
  arch: string;
  /** The third word of `Status:` (want, error flag, status): installed, config-files, half-installed, ... */
  state: string;
  ok: boolean;
}

/** Databases read, by path, kept while the file is the same (dpkg replaces it by rename on every change). */
const cached = new Map<string, { key: string; text: string; records: Map<string, Record[]> }>();

/**
 * Whether a package (`name` or `name:arch`) is installed, read from dpkg's database: what
 * `dpkg-query -W -f='${Status}'` answers, without a process per package (a fork costs more than reading a few
 * hundred kB once; the agent asks every cycle in apt mode). `undefined` when there is no such database (not a
 * dpkg system) or it cannot be read: the caller asks dpkg-query then. A held package counts as installed.
 */
export async function dpkgInstalled(pkg: string, file: string = DPKG_STATUS_FILE): Promise<boolean | undefined> {
  const db = await load(file);
  if (!db) return undefined;
  const [name, arch] = pkg.split(':');
  let records = db.records.get(name!);
  if (!records) db.records.set(name!, (records = findRecords(db.text, name!)));
  return records.some((r) => r.ok && INSTALLED.has(r.state) && (!arch || r.arch === arch || r.arch === 'all'));
}

/** The names of the installed packages, or undefined when there is no dpkg database to read. */
export async function dpkgInstalledNames(file: string = DPKG_STATUS_FILE): Promise<Set<string> | undefined> {
  const db = await load(file);
  if (!db) return undefined;
  // Every package named at the start of a line; each looked up as isInstalled does (rare: apt's revert only).
  const names = new Set([...db.text.matchAll(/^Package: (\S+)$/gm)].map((m) => m[1]!));
  return new Set([...names].filter((name) => findRecords(db.text, name).some((r) => r.ok && INSTALLED.has(r.state))));
}

/** Unpacked and configured; triggers still to run do not make it absent. */
const INSTALLED = new Set(['installed', 'triggers-pending', 'triggers-awaited']);

async function load(file: string): Promise<{ text: string; records: Map<string, Record[]> } | undefined> {
  const info = quietly(() => statNow(file));
  if (!info?.isFile()) return undefined;
  const key = `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;
  const hit = cached.get(file);
  if (hit?.key === key) return hit;
  const text = quietly(() => readTextNow(file, 'latin1'));
  if (text === undefined) return undefined;
  const db = { key, text, records: new Map<string, Record[]>() };
  cached.set(file, db);
  return db;
}

/**
 * A package's records (one per architecture installed) in the deb822 text of the database: its paragraphs are
 * found by their `Package:` line (dpkg writes it first) and only those are read. Parsing the whole database
 * of a few MB costs tens of ms and garbage; a lookup costs a scan of the text.
 */
export function findRecords(text: string, name: string): Record[] {
  const records: Record[] = [];
  const needle = `Package: ${name}\n`;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) {
    if (at > 0 && text[at - 1] !== '\n') continue; // not at the start of a line (a description mentioning it)
    const end = text.indexOf('\n\n', at);
    let status: string | undefined;
    let arch = '';
    for (const line of text.slice(at, end < 0 ? undefined : end).split('\n')) {
      if (line.startsWith('Status:')) status = line.slice(7).trim();
      else if (line.startsWith('Architecture:')) arch = line.slice(13).trim();
    }
    if (!status) continue;
    const [, flag, state] = status.split(/\s+/);
    records.push({ arch, state: state ?? '', ok: flag === 'ok' });
  }
  return records;
}
