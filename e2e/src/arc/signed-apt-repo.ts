// A real, gpg-signed apt repository generated for a test and served over HTTPS: the layout of
// packages.microsoft.com (`<distro>/<version>/prod/{dists,pool}`, keys under `/keys/`), Packages and Release from
// apt-ftparchive (apt-utils), InRelease and Release.gpg signed with a key made for the test. Real apt on a machine
// reads it exactly as it reads Microsoft's: nothing here is a fake.
import { execFile } from 'node:child_process';
import { copyFileSync, createReadStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { basename, join, normalize, sep } from 'node:path';
import { promisify } from 'node:util';
import { fakeTls, type FakeTls } from '../fakes/tls.js';

const execFileP = promisify(execFile);

export interface SignedRepo {
  /** Local directory served as the site root. */
  root: string;
  /** Path of the repository under the root, e.g. `debian/12/prod`. */
  path: string;
  suite: string;
  /** Fingerprint of the key that signs the repository (served at `/keys/repo.asc`). */
  fingerprint: string;
  /** Fingerprint of another key (served at `/keys/other.asc`), which signs nothing. */
  otherFingerprint: string;
  dispose(): void;
}

/** Builds a signed repository holding `debs` for `suite`/`arch` (component main) at `path` under a new root. */
export async function buildSignedRepo(opts: { path: string; suite: string; arch: string; debs: string[] }): Promise<SignedRepo> {
  const root = mkdtempSync(join(tmpdir(), 'signed-apt-repo-'));
  const home = join(root, '.gnupg');
  mkdirSync(home, { mode: 0o700 });
  const gpg = (...args: string[]) =>
    execFileP('gpg', ['--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { env: { ...process.env, GNUPGHOME: home } });
  const newKey = async (uid: string) => {
    await gpg('--quick-gen-key', uid, 'ed25519', 'sign', 'never');
    const listing = (await gpg('--with-colons', '--list-keys', uid)).stdout;
    return /^fpr:(?:[^:]*:){8}([0-9A-F]+):/m.exec(listing)![1]!;
  };
  try {
    const fingerprint = await newKey('flexnode e2e repository <repo@flexnode.invalid>');
    const otherFingerprint = await newKey('not the repository <other@flexnode.invalid>');
    mkdirSync(join(root, 'keys'));
    writeFileSync(join(root, 'keys/repo.asc'), (await gpg('--armor', '--export', fingerprint)).stdout);
    writeFileSync(join(root, 'keys/other.asc'), (await gpg('--armor', '--export', otherFingerprint)).stdout);

    const repo = join(root, opts.path);
    const pool = join(repo, 'pool/main/a/azcmagent');
    mkdirSync(pool, { recursive: true });
    for (const deb of opts.debs) copyFileSync(deb, join(pool, basename(deb)));
    const binary = join(repo, 'dists', opts.suite, 'main', `binary-${opts.arch}`);
    mkdirSync(binary, { recursive: true });
    // Paths in Packages are relative to the repository root (Filename: pool/...), as apt expects.
    const packages = (await execFileP('apt-ftparchive', ['packages', 'pool'], { cwd: repo, maxBuffer: 16 << 20 })).stdout;
    writeFileSync(join(binary, 'Packages'), packages);
    await execFileP('gzip', ['-9kn', join(binary, 'Packages')]);
    const dists = join(repo, 'dists', opts.suite);
    const release = (
      await execFileP(
        'apt-ftparchive',
        [
          '-o',
          `APT::FTPArchive::Release::Origin=flexnode-e2e`,
          '-o',
          `APT::FTPArchive::Release::Suite=${opts.suite}`,
          '-o',
          `APT::FTPArchive::Release::Codename=${opts.suite}`,
          '-o',
          `APT::FTPArchive::Release::Architectures=${opts.arch}`,
          '-o',
          'APT::FTPArchive::Release::Components=main',
          'release',
          '.',
        ],
        { cwd: dists },
      )
    ).stdout;
    writeFileSync(join(dists, 'Release'), release);
    await gpg('--local-user', fingerprint, '--clearsign', '--output', join(dists, 'InRelease'), join(dists, 'Release'));
    await gpg('--local-user', fingerprint, '--armor', '--detach-sign', '--output', join(dists, 'Release.gpg'), join(dists, 'Release'));
    rmSync(home, { recursive: true, force: true });
    return { root, path: opts.path, suite: opts.suite, fingerprint, otherFingerprint, dispose: () => rmSync(root, { recursive: true, force: true }) };
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
}

export interface RepoServer {
  /** `https://<host>:<port>` (no trailing slash). */
  url: string;
  tls: FakeTls;
  /** Paths requested, in order. */
  log: string[];
  close(): Promise<void>;
}

/** Serves `root` over HTTPS on `host` with a throwaway certificate for that address (trust `tls.cert`). */
export async function serveRepo(root: string, host: string): Promise<RepoServer> {
  const tls = await fakeTls([host]);
  const log: string[] = [];
  const sockets = new Set<TLSSocket>();
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'https://repo').pathname);
    log.push(path);
    const file = normalize(join(root, path));
    const stat = file.startsWith(root + sep) && !path.includes('/.') ? statSync(file, { throwIfNoEntry: false }) : undefined;
    if (!stat?.isFile() || req.method !== 'GET') {
      res.writeHead(req.method === 'GET' ? 404 : 405, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-length': stat.size, 'content-type': 'application/octet-stream', 'last-modified': stat.mtime.toUTCString() });
    createReadStream(file).pipe(res);
  });
  server.on('secureConnection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://${host}:${port}`,
    tls,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
