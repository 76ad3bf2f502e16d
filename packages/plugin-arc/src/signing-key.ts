import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlexnodeError, type Host } from '@flexnode/sdk';
import type { AgentRepository } from './agent-source.js';
import { lastLine } from './azcmagent.js';

/** A key file larger than this is no repository signing key (Microsoft's is ~1 kB). */
const MAX_KEY_BYTES = 256 * 1024;
/** apt's own downloader: the key comes through the same transport, proxy and CA trust as the repository. */
export const APT_HELPER = '/usr/lib/apt/apt-helper';

/** One primary key of `gpg --with-colons --show-keys` (gnupg's doc/DETAILS). */
export interface OpenPgpKey {
  fingerprint: string;
  /** Field 2: `r` revoked, `e` expired, `-`/`u`/`f`... otherwise. */
  validity: string;
  userIds: string[];
}

/** The primary keys of a colon listing, each with its own fingerprint (the `fpr` right after `pub`). */
export function parseKeyListing(colons: string): OpenPgpKey[] {
  const keys: OpenPgpKey[] = [];
  let awaitingFpr = false;
  for (const line of colons.split(/\r?\n/)) {
    const f = line.split(':');
    if (f[0] === 'pub') {
      keys.push({ fingerprint: '', validity: f[1] ?? '', userIds: [] });
      awaitingFpr = true;
    } else if (f[0] === 'sub' || f[0] === 'ssb') {
      awaitingFpr = false;
    } else if (f[0] === 'fpr' && awaitingFpr) {
      keys.at(-1)!.fingerprint = (f[9] ?? '').toUpperCase();
      awaitingFpr = false;
    } else if (f[0] === 'uid' && keys.length > 0) {
      keys.at(-1)!.userIds.push((f[9] ?? '').replace(/\\x([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))));
    }
  }
  return keys;
}

/**
 * The key file is trusted only when it holds exactly one primary key, with the expected fingerprint, neither
 * revoked nor expired: a second key in the file would be trusted by apt too.
 */
export function checkSigningKey(keys: readonly OpenPgpKey[], expected: string, from: string): void {
  const refuse = (why: string) =>
    new FlexnodeError('ARC_REPO_KEY_REFUSED', `the signing key from ${from} is not trusted: ${why}; nothing was installed`, {
      hint: `check the key URL and the fingerprint (pluginConfig["@flexnode/plugin-arc"].agent.repository.key / .fingerprint); Microsoft's keys: https://learn.microsoft.com/linux/packages`,
    });
  if (keys.length !== 1) throw refuse(`the file holds ${keys.length} keys, and only one key with the fingerprint ${expected} is accepted`);
  const key = keys[0]!;
  if (key.fingerprint !== expected) throw refuse(`its fingerprint is ${key.fingerprint || '(none)'}, not ${expected}`);
  if (key.validity === 'r') throw refuse('the key is revoked');
  if (key.validity === 'e') throw refuse('the key has expired');
}

/** Whether a key file is ASCII-armored (apt then needs the `.asc` extension on the keyring). */
export function isArmored(key: Buffer): boolean {
  return /^\s*-----BEGIN PGP PUBLIC KEY BLOCK-----/.test(key.subarray(0, 100).toString('latin1'));
}

/**
 * Download the repository's signing key with apt's downloader into a private temporary directory, and check it
 * with gpg before anything trusts it (gpg is installed with apt when missing: journaled, removed on unbootstrap).
 * Nothing on the machine is written here; the caller writes the verified key through the Host.
 */
export async function fetchSigningKey(host: Host, repo: AgentRepository, aptOptions: readonly string[], secrets: string[]): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'flexnode-arc-key-'));
  try {
    const file = join(dir, 'signing-key');
    const download = await host.exec.run(APT_HELPER, [...aptOptions, '-o', 'APT::Sandbox::User=root', 'download-file', repo.keyUrl, file], {
      mutates: false,
      allowFailure: true,
      timeoutMs: 120_000,
      secrets,
    });
    const key = download.exitCode === 0 ? await readFile(file).catch(() => undefined) : undefined;
    if (!key) {
      throw new FlexnodeError(
        'ARC_REPO_KEY_DOWNLOAD',
        `could not download the repository's signing key from ${repo.keyUrl}: ${lastLine(download.stderr || download.stdout)}`,
        {
          hint: 'check the network and proxy (proxy.https, proxy.noProxy), or point pluginConfig["@flexnode/plugin-arc"].agent.repository.key at a reachable copy',
        },
      );
    }
    if (key.length > MAX_KEY_BYTES) throw new FlexnodeError('ARC_REPO_KEY_REFUSED', `${repo.keyUrl} is ${key.length} bytes: not a repository signing key`);
    if (!(await host.exec.which('gpg'))) {
      host.log.info('gpg is needed to check the repository signing key: installing it');
      await host.apt.install(['gpg']);
    }
    const home = join(dir, 'gnupg');
    await mkdir(home, { mode: 0o700 });
    // A private GNUPGHOME: listing the key creates nothing in root's home.
    const shown = await host.exec.run('gpg', ['--batch', '--no-tty', '--with-colons', '--show-keys', file], {
      mutates: false,
      allowFailure: true,
      env: { GNUPGHOME: home },
      timeoutMs: 30_000,
    });
    if (shown.exitCode !== 0) {
      throw new FlexnodeError(
        'ARC_REPO_KEY_REFUSED',
        `the file at ${repo.keyUrl} is not an OpenPGP key gpg can read: ${lastLine(shown.stderr || shown.stdout)}; nothing was installed`,
      );
    }
    checkSigningKey(parseKeyListing(shown.stdout), repo.fingerprint, repo.keyUrl);
    return key;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
