// Builds the release tarball for this machine's architecture once per test process (scripts/build-release.mjs)
// and serves release files over HTTP for install.sh.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { startMirror, type MirrorServer } from '../mirror/mirror-server.js';
import { repoRoot } from '../mirror/paths.js';
import { run } from '../mirror/run.js';

export interface Release {
  dir: string;
  version: string;
  arch: 'x64' | 'arm64';
  /** The Node.js version the tarball embeds (the root package.json's releaseNode), with its v. */
  nodeVersion: string;
  tarball: string;
  sha256: string;
  buildMs: number;
}

let building: Promise<Release> | undefined;

/** The native-arch release, built into a temp dir (about 30 s; once per process). */
export function nativeRelease(): Promise<Release> {
  building ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flexnode-release-'));
    const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
    const t0 = Date.now();
    await run([process.execPath, join(repoRoot(), 'scripts/build-release.mjs'), '--arch', arch, '--out', dir], { timeoutMs: 300_000 });
    const version = JSON.parse(await readFile(join(repoRoot(), 'packages/cli/package.json'), 'utf8')).version as string;
    const nodeVersion = `v${(JSON.parse(await readFile(join(repoRoot(), 'package.json'), 'utf8')) as { releaseNode: { version: string } }).releaseNode.version}`;
    const tarball = join(dir, `flexnode-${version}-linux-${arch}.tar.gz`);
    if (!existsSync(tarball)) throw new Error(`build-release.mjs made no ${tarball}`);
    const sha256 = (await readFile(`${tarball}.sha256`, 'utf8')).split(' ')[0]!;
    return { dir, version, arch, nodeVersion, tarball, sha256, buildMs: Date.now() - t0 };
  })();
  return building;
}

/** Serve the release dir (tarball, .sha256) at `host`: the machine's side of the veth must reach it. */
export function serveRelease(release: Release, host: string): Promise<MirrorServer> {
  return startMirror({ lookup: (p) => (p === basename(p) && existsSync(join(release.dir, p)) ? { file: join(release.dir, p) } : undefined) }, { host });
}
