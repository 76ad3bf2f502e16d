// Builds a tiny OCI image archive (image-layout tar) that `ctr image import` accepts, from binaries of the
// build machine: /usr/bin/echo and the shared libraries ldd lists. No registry or network is involved, so
// tests can prove `ctr run` on a node without pulling anything.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { debianArch } from './build-artifacts.js';
import { run } from './run.js';

/** The reference the image is imported under. */
export const ECHO_IMAGE = 'docker.io/flexnode-test/echo:1';

const digest = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Files a dynamically linked binary needs: itself and what `ldd` resolves. */
async function closure(binary: string): Promise<string[]> {
  const { stdout } = await run(['ldd', binary]);
  const libs = [...stdout.matchAll(/(\/[^\s]+)/g)].map((m) => m[1]!);
  return [binary, ...new Set(libs)];
}

/** Write the OCI archive to `out`: one layer with echo, entrypoint `echo`. Returns the image reference. */
export function buildEchoImage(out: string): Promise<string> {
  return buildImage(out, { binary: '/usr/bin/echo', entrypoint: ['/usr/bin/echo'], cmd: ['hello from a container'], reference: ECHO_IMAGE });
}

/** The reference of {@link buildSleepImage}'s image. */
export const SLEEP_IMAGE = 'docker.io/flexnode-test/sleep:1';

/** An image whose process sleeps until stopped: a pod's sandbox (what the pause image does) without a registry. */
export function buildSleepImage(out: string): Promise<string> {
  return buildImage(out, { binary: '/usr/bin/sleep', entrypoint: ['/usr/bin/sleep'], cmd: ['infinity'], reference: SLEEP_IMAGE });
}

/** Write an OCI archive to `out`: one layer with `binary` and its libraries, the given entrypoint and command. */
export async function buildImage(out: string, image: { binary: string; entrypoint: string[]; cmd: string[]; reference: string }): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'flexnode-oci-'));
  try {
    const rootfs = join(work, 'rootfs');
    for (const file of await closure(image.binary)) {
      await mkdir(join(rootfs, dirname(file)), { recursive: true });
      await copyFile(file, join(rootfs, file));
    }
    const layerTar = join(work, 'layer.tar');
    await run(['tar', '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', rootfs, '-cf', layerTar, '.']);
    const diffId = digest(await readFile(layerTar));
    await run(['gzip', '-n', layerTar]);
    const layer = await readFile(`${layerTar}.gz`);
    const config = Buffer.from(
      JSON.stringify({
        architecture: debianArch(),
        os: 'linux',
        config: { Entrypoint: image.entrypoint, Cmd: image.cmd },
        rootfs: { type: 'layers', diff_ids: [diffId] },
      }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digest(layer), size: layer.length }],
      }),
    );
    const layout = join(work, 'layout');
    await mkdir(join(layout, 'blobs/sha256'), { recursive: true });
    for (const blob of [layer, config, manifest]) await writeFile(join(layout, 'blobs/sha256', digest(blob).slice(7)), blob);
    await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(
      join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: digest(manifest),
            size: manifest.length,
            annotations: { 'io.containerd.image.name': image.reference, 'org.opencontainers.image.ref.name': image.reference.split(':').pop()! },
          },
        ],
      }),
    );
    await run(['tar', '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', layout, '-cf', out, '.']);
    return image.reference;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
