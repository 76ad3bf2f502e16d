// The Debian rootfs a machine boots: built once with debootstrap, cached as a tar, unpacked once into a base
// dir that every machine overlays read-only. Atomic renames + a file lock make parallel test files safe.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheDir } from '../mirror/paths.js';
import { run } from '../mirror/run.js';
import { withFileLock } from './lock.js';

export const SUITE = 'bookworm';
/** node-in-a-box.md's list, plus curl so a machine can download from the host's mirror. */
// conntrack, socat and ebtables: the node has no route to a Debian mirror, so the packages plugin-kube
// requires are in the image (as on a cloud image); kube.packages then finds them and installs nothing. gpg, as on
// Ubuntu's images: plugin-arc checks a package repository's signing key with it.
// openssh-server and python3: Ansible reaches the machines over ssh and runs its modules with python3 (fleet
// tests). cloud-init: the first-boot rollout (fleet tests); it is switched off in the image (TWEAKS) and each
// test that wants it switches it on in its own machine. python3-cffi-backend: debootstrap does not resolve the
// virtual package python3-cryptography (a cloud-init dependency) depends on, so it is named here.
export const INCLUDE = [
  'systemd',
  'systemd-sysv',
  'dbus',
  'procps',
  'kmod',
  'iproute2',
  'iptables',
  'ca-certificates',
  'curl',
  'conntrack',
  'socat',
  'ebtables',
  'gpg',
  'openssh-server',
  'python3',
  'cloud-init',
  'python3-cffi-backend',
];

/**
 * Files written into the image after debootstrap (path -> content), part of the cache key like INCLUDE.
 * cloud-init stays off unless a machine removes /etc/cloud/cloud-init.disabled, and then looks only for a
 * NoCloud seed and leaves the network alone (the harness addresses host0): it never probes a cloud's
 * metadata address. sshd takes keys only (the fleet tests log in as root with a key of their own).
 */
export const TWEAKS: Readonly<Record<string, string>> = {
  '/etc/cloud/cloud-init.disabled': 'node-in-a-box: cloud-init runs only in machines whose test removes this file\n',
  '/etc/cloud/cloud.cfg.d/99-node-in-a-box.cfg': 'datasource_list: [ NoCloud ]\nnetwork: {config: disabled}\n',
  '/etc/ssh/sshd_config.d/node-in-a-box.conf': 'PasswordAuthentication no\nPermitRootLogin prohibit-password\nUseDNS no\n',
};

export interface RootfsOptions {
  /** Default `<repo>/.cache/rootfs` (or $FLEXNODE_E2E_CACHE/rootfs). */
  dir?: string;
  /** Debian mirror for debootstrap; default $FLEXNODE_DEBIAN_MIRROR, else the one apt uses. */
  mirror?: string;
  log?: (msg: string) => void;
}

/** The cache key changes when the package list or the tweaks do, so a stale tar is never reused. */
function key(): string {
  return `${SUITE}-${createHash('sha256').update(INCLUDE.join(',')).update(JSON.stringify(TWEAKS)).digest('hex').slice(0, 8)}`;
}

export function rootfsPaths(opts: RootfsOptions = {}): { tar: string; base: string; lock: string } {
  const dir = opts.dir ?? cacheDir('rootfs');
  return { tar: join(dir, `${key()}.tar`), base: join(dir, `${key()}.base`), lock: join(dir, `${key()}.lock`) };
}

/** The Debian mirror this machine's apt uses for `suite` (deb822 .sources or one-line .list). */
export async function debianMirror(suite = SUITE): Promise<string | undefined> {
  if (process.env.FLEXNODE_DEBIAN_MIRROR) return process.env.FLEXNODE_DEBIAN_MIRROR;
  const files = ['/etc/apt/sources.list'];
  const d = '/etc/apt/sources.list.d';
  if (existsSync(d)) for (const f of (await readdir(d)).sort()) if (/\.(list|sources)$/.test(f)) files.push(join(d, f));
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const found = file.endsWith('.sources') ? fromDeb822(text, suite) : fromOneLine(text, suite);
    if (found) return found.replace(/\/+$/, '');
  }
  return undefined;
}

function fromOneLine(text: string, suite: string): string | undefined {
  for (const raw of text.split('\n')) {
    const line = raw
      .replace(/#.*/, '')
      .replace(/\[[^\]]*\]/, '')
      .trim()
      .split(/\s+/);
    if (line[0] === 'deb' && line[2] === suite && line[1]) return line[1];
  }
  return undefined;
}

function fromDeb822(text: string, suite: string): string | undefined {
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(stanza.replace(/^#.*$/gm, ''))?.[1]?.trim().split(/\s+/) ?? [];
    if (field('Enabled')[0] === 'no') continue;
    if (field('Types').includes('deb') && field('Suites').includes(suite)) return field('URIs')[0];
  }
  return undefined;
}

/** Path of the cached rootfs tar, running debootstrap first if it is missing (about 40 s). */
export async function ensureRootfsTar(opts: RootfsOptions = {}): Promise<string> {
  const { tar, lock } = rootfsPaths(opts);
  if (existsSync(tar)) return tar;
  await mkdir(join(tar, '..'), { recursive: true });
  return withFileLock(lock, async () => {
    if (existsSync(tar)) return tar; // another process built it while we waited
    const mirror = opts.mirror ?? (await debianMirror());
    if (!mirror) throw new Error('no Debian mirror for debootstrap: none in /etc/apt/sources.list* and FLEXNODE_DEBIAN_MIRROR unset');
    const tmp = `${tar}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    const t0 = Date.now();
    try {
      await mkdir(`${tmp}.d`);
      const args = ['debootstrap', '--variant=minbase', `--include=${INCLUDE.join(',')}`, SUITE, `${tmp}.d`, mirror];
      await run(args, { timeoutMs: 900_000 });
      // Keep the tar small and the machines quick: apt lists and .debs are not needed inside.
      await rm(`${tmp}.d/var/cache/apt/archives`, { recursive: true, force: true });
      await mkdir(`${tmp}.d/var/cache/apt/archives/partial`, { recursive: true });
      for (const [path, content] of Object.entries(TWEAKS)) {
        await mkdir(join(`${tmp}.d`, path, '..'), { recursive: true });
        await writeFile(join(`${tmp}.d`, path), content, { mode: 0o644 });
      }
      await run(['tar', '--numeric-owner', '--xattrs', '--xattrs-include=*', '-C', `${tmp}.d`, '-cf', tmp, '.']);
      await rename(tmp, tar);
      opts.log?.(`rootfs: debootstrap + tar took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return tar;
    } finally {
      await rm(`${tmp}.d`, { recursive: true, force: true });
      await rm(tmp, { force: true });
    }
  });
}

/** The unpacked base dir machines overlay (never written to: every machine has its own upper dir). */
export async function ensureBaseRootfs(opts: RootfsOptions = {}): Promise<string> {
  const { base } = rootfsPaths(opts);
  if (existsSync(join(base, 'usr'))) return base;
  const tar = await ensureRootfsTar(opts);
  const tmp = `${base}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(tmp);
    await run(['tar', '--numeric-owner', '--xattrs', '--xattrs-include=*', '-C', tmp, '-xpf', tar]);
    try {
      await rename(tmp, base);
    } catch (e) {
      // A parallel process renamed its copy first: use that one.
      if (!['ENOTEMPTY', 'EEXIST'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return base;
}
