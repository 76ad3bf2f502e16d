// Builds release artifacts in the UPSTREAM layout from Debian's binaries, so the product's download code
// runs unchanged against a local mirror. Byte-reproducible (fixed mtimes/owners, gzip -n) and cached.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { spawn } from 'node:child_process';
import { cacheDir } from './paths.js';
import { run } from './run.js';

export type Arch = 'amd64' | 'arm64';

export interface Artifact {
  /** Logical name: containerd, runc, cni-plugins, or whatever addFile was given. */
  name: string;
  version: string;
  /** Absolute path of the file on this machine. */
  file: string;
  /** Path under the mirror base URL: `<component>/v<version>/<filename>`. */
  mirrorPath: string;
  sha256: string;
}

/** The files a mirror serves; the server looks paths up at request time, so addFile works after start. */
export class ArtifactManifest {
  readonly arch: Arch;
  private readonly byPath = new Map<string, Artifact>();

  constructor(arch: Arch = debianArch(), artifacts: Artifact[] = []) {
    this.arch = arch;
    for (const a of artifacts) this.byPath.set(normalize(a.mirrorPath), a);
  }

  get artifacts(): Artifact[] {
    return [...this.byPath.values()];
  }

  /** The artifact with this logical name (first match); throws when absent so tests fail loudly. */
  get(name: string): Artifact {
    const a = this.artifacts.find((x) => x.name === name);
    if (!a) throw new Error(`no artifact named ${name} (have: ${this.artifacts.map((x) => x.name).join(', ')})`);
    return a;
  }

  /**
   * Serves `<mirrorPath>.sha256` beside an artifact, as dl.k8s.io publishes it (the bare hex digest), written into
   * `dir`; `digest` replaces the real one (a wrong checksum file).
   */
  async addChecksum(mirrorPath: string, dir: string, digest?: string): Promise<Artifact> {
    const artifact = this.lookup(mirrorPath);
    if (!artifact) throw new Error(`addChecksum: no artifact at ${mirrorPath}`);
    const file = join(dir, `${basename(mirrorPath)}.sha256`);
    await mkdir(dir, { recursive: true });
    await writeFile(file, digest ?? artifact.sha256);
    return this.addFile(`${normalize(mirrorPath)}.sha256`, file, { name: `${artifact.name}.sha256`, version: artifact.version });
  }

  lookup(mirrorPath: string): Artifact | undefined {
    return this.byPath.get(normalize(mirrorPath));
  }

  /** Adds a file made elsewhere (a stand-in kubelet, azcmagent...) under `mirrorPath`. */
  async addFile(mirrorPath: string, localPath: string, meta: { name?: string; version?: string } = {}): Promise<Artifact> {
    const path = normalize(mirrorPath);
    const artifact: Artifact = {
      name: meta.name ?? path.split('/')[0] ?? path,
      version: meta.version ?? /(?:^|\/)v([^/]+)\//.exec(path)?.[1] ?? '',
      file: localPath,
      mirrorPath: path,
      sha256: await sha256File(localPath),
    };
    this.byPath.set(path, artifact);
    return artifact;
  }

  toJSON(): { arch: Arch; artifacts: Artifact[] } {
    return { arch: this.arch, artifacts: this.artifacts };
  }
}

function normalize(p: string): string {
  return p.replace(/^\/+/, '');
}

/** Debian/Go arch name of this machine. */
export function debianArch(): Arch {
  if (process.arch === 'x64') return 'amd64';
  if (process.arch === 'arm64') return 'arm64';
  throw new Error(`unsupported arch ${process.arch}`);
}

/** Upstream version of an installed Debian package: `1.6.20~ds1-1+deb12u3` -> `1.6.20`. */
export async function debianUpstreamVersion(pkg: string): Promise<string> {
  const { stdout } = await run(['dpkg-query', '-W', '-f=${Version}', pkg]);
  const m = /^(?:\d+:)?(\d+(?:\.\d+)*)/.exec(stdout.trim());
  if (!m?.[1]) throw new Error(`cannot parse version of ${pkg}: ${stdout}`);
  return m[1];
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface BuildOptions {
  /** Default `<repo>/.cache/artifacts` (or $FLEXNODE_E2E_CACHE/artifacts). */
  cacheDir?: string;
}

/** Builds (or reuses) containerd, runc and cni-plugins artifacts and returns their manifest. */
export async function buildArtifacts(opts: BuildOptions = {}): Promise<ArtifactManifest> {
  const dir = opts.cacheDir ?? cacheDir('artifacts');
  await mkdir(dir, { recursive: true });
  const arch = debianArch();
  const [containerdV, runcV, cniV] = await Promise.all([
    debianUpstreamVersion('containerd'),
    debianUpstreamVersion('runc'),
    debianUpstreamVersion('containernetworking-plugins'),
  ]);

  const containerd = join(dir, `containerd-${containerdV}-linux-${arch}.tar.gz`);
  await cached(containerd, (tmp) =>
    tarball(tmp, 'bin', {
      containerd: '/usr/bin/containerd',
      'containerd-shim-runc-v2': '/usr/bin/containerd-shim-runc-v2',
      ctr: '/usr/bin/ctr',
    }),
  );

  const runc = join(dir, `runc.${arch}`);
  await cached(runc, async (tmp) => {
    await copyFile('/usr/sbin/runc', tmp);
    await chmod(tmp, 0o755);
  });

  const cni = join(dir, `cni-plugins-linux-${arch}-v${cniV}.tgz`);
  await cached(cni, async (tmp) => {
    const files: Record<string, string> = {};
    for (const f of (await readdir('/usr/lib/cni')).sort()) files[f] = join('/usr/lib/cni', f);
    await tarball(tmp, '.', files);
  });

  const manifest = new ArtifactManifest(arch);
  await manifest.addFile(`containerd/v${containerdV}/${basename(containerd)}`, containerd, { name: 'containerd', version: containerdV });
  await manifest.addFile(`runc/v${runcV}/${basename(runc)}`, runc, { name: 'runc', version: runcV });
  await manifest.addFile(`cni-plugins/v${cniV}/${basename(cni)}`, cni, { name: 'cni-plugins', version: cniV });
  return manifest;
}

/** Runs `make(tmp)` and renames tmp onto `target` unless target exists: atomic, so parallel builders are safe. */
async function cached(target: string, make: (tmp: string) => Promise<void>): Promise<void> {
  if (await exists(target)) return;
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await make(tmp);
    await rename(tmp, target);
  } finally {
    await rm(tmp, { force: true });
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * The Kubernetes node tarball in the upstream layout (kubernetes/release: `kubernetes-node-linux-<arch>.tar.gz`
 * holding `kubernetes/node/bin/*`), from `files` (name -> source, e.g. the kubelet stand-in), written at `out`.
 */
export async function buildNodeTarball(out: string, files: Record<string, string>): Promise<void> {
  await tarball(out, 'kubernetes/node/bin', files, 'kubernetes');
}

/**
 * Writes a reproducible .tar.gz at `out` holding `files` (name -> source) under `prefix` ('bin' or '.'); `entry`
 * is what is archived (default the prefix itself).
 * Staged in a temp dir with fixed modes; tar fixes order, mtimes and owners; gzip -n drops name and time.
 */
async function tarball(out: string, prefix: string, files: Record<string, string>, entry = prefix): Promise<void> {
  const stage = `${out}.stage`;
  const into = join(stage, prefix);
  await rm(stage, { recursive: true, force: true });
  try {
    await mkdir(into, { recursive: true });
    await chmod(stage, 0o755);
    await chmod(into, 0o755);
    for (const [name, src] of Object.entries(files)) {
      await copyFile(src, join(into, name));
      await chmod(join(into, name), 0o755);
    }
    await tarGzip(stage, entry, out);
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/** `tar ... -C dir -cf - entry | gzip -n > out`, piped in Node rather than through a shell. */
async function tarGzip(dir: string, entry: string, out: string): Promise<void> {
  const fh = await open(out, 'w', 0o644);
  try {
    const tar = spawn('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--format=gnu', '-C', dir, '-cf', '-', entry], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const gzip = spawn('gzip', ['-n', '-c'], { stdio: ['pipe', fh.fd, 'pipe'] });
    tar.stdout.pipe(gzip.stdin!);
    const errs: string[] = [];
    tar.stderr.on('data', (b: Buffer) => errs.push(b.toString()));
    gzip.stderr!.on('data', (b: Buffer) => errs.push(b.toString()));
    const done = (p: ReturnType<typeof spawn>, name: string) =>
      new Promise<void>((res, rej) => {
        p.on('error', rej);
        p.on('close', (code) => (code === 0 ? res() : rej(new Error(`${name} exited ${code}: ${errs.join('')}`))));
      });
    await Promise.all([done(tar, 'tar'), done(gzip, 'gzip')]);
  } finally {
    await fh.close();
  }
}
