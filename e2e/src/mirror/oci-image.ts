// Builds tiny OCI image archives (image-layout tar) that `ctr image import` accepts, from binaries of the build
// machine and the shared libraries ldd lists. No registry or network is involved, so tests can prove `ctr run` on a
// node without pulling anything. The echo image prints and exits; the pod image (sleep, cat, echo, sh) keeps
// running, for pods that a kubelet runs and must stop.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { debianArch } from './build-artifacts.js';
import { run } from './run.js';

/** The reference the echo image is imported under. */
export const ECHO_IMAGE = 'docker.io/flexnode-test/echo:1';
/** The reference the pod image is imported under (what FakeKubeApi.seedPod uses by default). */
export const POD_IMAGE = 'docker.io/flexnode-test/pod:1';

const digest = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Files a dynamically linked binary needs: itself and what `ldd` resolves. */
async function closure(binary: string): Promise<string[]> {
  const { stdout } = await run(['ldd', binary]);
  const libs = [...stdout.matchAll(/(\/[^\s]+)/g)].map((m) => m[1]!);
  return [binary, ...new Set(libs)];
}

/** Write the OCI archive to `out`: one layer with echo, entrypoint `echo`. Returns the image reference. */
export function buildEchoImage(out: string): Promise<string> {
  return buildImage(out, { ref: ECHO_IMAGE, binaries: ['/usr/bin/echo'], entrypoint: ['/usr/bin/echo'], cmd: ['hello from a container'] });
}

/** Write the pod image's OCI archive to `out`: sleep, cat, echo and sh; it runs `sleep infinity`. */
export function buildPodImage(out: string): Promise<string> {
  return buildImage(out, {
    ref: POD_IMAGE,
    binaries: ['/usr/bin/sleep', '/usr/bin/cat', '/usr/bin/echo', '/bin/sh'],
    entrypoint: ['/usr/bin/sleep'],
    cmd: ['infinity'],
  });
}

/** The reference of {@link buildSleepImage}'s image. */
export const SLEEP_IMAGE = 'docker.io/flexnode-test/sleep:1';

/** An image whose process sleeps until stopped: a pod's sandbox (what the pause image does) without a registry. */
export function buildSleepImage(out: string): Promise<string> {
  return buildImage(out, { ref: SLEEP_IMAGE, binaries: ['/usr/bin/sleep'], entrypoint: ['/usr/bin/sleep'], cmd: ['infinity'] });
}

/** Write an OCI archive to `out`: one layer with the binaries and their libraries, the given entrypoint and command. */
export async function buildImage(out: string, img: { ref: string; binaries: string[]; entrypoint: string[]; cmd: string[] }): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'flexnode-oci-'));
  try {
    const rootfs = join(work, 'rootfs');
    for (const file of new Set((await Promise.all(img.binaries.map(closure))).flat())) {
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
        config: { Entrypoint: img.entrypoint, Cmd: img.cmd },
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
            annotations: { 'io.containerd.image.name': img.ref, 'org.opencontainers.image.ref.name': img.ref.split(':').pop()! },
          },
        ],
      }),
    );
    await run(['tar', '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', layout, '-cf', out, '.']);
    return img.ref;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
