import { readFileSync, readlinkSync } from 'node:fs';
import { lstatNow, quietly } from './read-now.js';

/** Where unit files live, highest precedence first (systemd.unit(5)): the first one found is the unit. */
const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/usr/local/lib/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system'];

/**
 * Whether `unit` is certainly enabled, read from the tree under `resolve('/')` without running systemctl:
 * not masked, and every WantedBy=/RequiredBy= of its [Install] section linked in /etc/systemd/system. `false`
 * means "not certain", not "disabled": the caller asks systemctl then. An idle agent cycle checks enablement
 * every interval, and a systemctl process costs ~30 ms of CPU each time.
 */
export async function certainlyEnabled(resolve: (path: string) => string, unit: string): Promise<boolean> {
  if (unit.includes('@')) return false; // template instances: systemctl's business
  for (const dir of ['/etc/systemd/system', '/run/systemd/system']) {
    const target = quietly(() => readlinkSync(resolve(`${dir}/${unit}`)));
    if (target === '/dev/null') return false; // masked
  }
  let text: string | undefined;
  for (const dir of UNIT_DIRS) {
    const path = resolve(`${dir}/${unit}`);
    const info = quietly(() => lstatNow(path));
    if (!info) continue;
    if (!info.isFile()) return false; // a linked unit (its target is outside this tree under a --root): ask systemctl
    text = readFileSync(path, 'utf8');
    break;
  }
  if (text === undefined) return false;
  const links = installLinks(text, unit);
  if (links.length === 0) return false; // static, alias-only, ...
  for (const link of links) {
    if (!quietly(() => lstatNow(resolve(`/etc/systemd/system/${link}`)))?.isSymbolicLink()) return false;
  }
  return true;
}

/** The links `systemctl enable` makes for a unit's [Install] section: `<target>.wants/<unit>`, `<target>.requires/<unit>`. */
export function installLinks(unitFile: string, unit: string): string[] {
  const links: string[] = [];
  let inInstall = false;
  for (const raw of unitFile.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) {
      inInstall = line === '[Install]';
      continue;
    }
    if (!inInstall || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^(WantedBy|RequiredBy)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    const suffix = m[1] === 'WantedBy' ? 'wants' : 'requires';
    for (const target of m[2]!.split(/\s+/).filter(Boolean)) links.push(`${target}.${suffix}/${unit}`);
  }
  return links;
}
