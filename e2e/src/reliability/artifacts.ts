// Area 3: bad artifacts. The CNI plugins step (download, sha256, unpack) against the mirror's faults and crafted
// tarballs: each must be refused with a message naming the artifact and the reason, with nothing unpacked (no
// file in the target, staging empty, nothing unverified in the cache, nothing written outside), and an
// unbootstrap must then give back the pristine tree.
import { existsSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { debianArch } from '../mirror/build-artifacts.js';
import type { Fault } from '../mirror/mirror-server.js';
import type { Infra } from './infra.js';
import { Checks, diffTrees, excerpt, pool, rowOf, Sandbox, WORK, type Row } from './lib.js';
import { sha256File } from '../mirror/build-artifacts.js';

interface TarEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink';
  content?: string;
  link?: string;
}

/** A minimal ustar writer: enough to craft the hostile archives no well-behaved tool would make. */
export function tarball(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.content ?? '', 'utf8');
    const h = Buffer.alloc(512);
    h.write(e.path, 0, 100, 'utf8');
    h.write(`${(e.type === 'dir' ? 0o755 : 0o755).toString(8).padStart(7, '0')}\0`, 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${(e.type === 'file' ? body.length : 0).toString(8).padStart(11, '0')}\0`, 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write({ file: '0', hardlink: '1', symlink: '2', dir: '5' }[e.type], 156);
    if (e.link) h.write(e.link, 157, 100, 'utf8');
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h);
    if (e.type === 'file' && body.length) blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

interface ArtifactCase {
  name: string;
  /** What the message must say besides the artifact's name. */
  reason: RegExp;
  fault?: Fault;
  /** Serve this archive instead of the real one. */
  archive?: (escape: string) => TarEntry[];
  /** Pin a wrong sha256 in the config. */
  wrongPin?: boolean;
}

const CASES: ArtifactCase[] = [
  { name: 'corrupted bytes (sha256 mismatch)', fault: 'corrupt', reason: /sha256 mismatch/ },
  { name: 'wrong pinned checksum', wrongPin: true, reason: /sha256 mismatch/ },
  { name: 'truncated download', fault: 'truncate', reason: /truncated|closed by the server/ },
  { name: 'HTTP 404', fault: 'notFound', reason: /HTTP 404/ },
  { name: 'HTTP 500 (retried, then reported)', fault: 'fail500', reason: /HTTP 500.*gave up after 4 attempts/ },
  { name: 'stalled server (idle timeout)', fault: 'stall', reason: /sent nothing for .* \(idle timeout\)/ },
  {
    name: 'tar entry with ../',
    reason: /refused entry .*"\.\." in the path/,
    archive: (escape) => [
      { path: 'bridge', type: 'file', content: 'x' },
      { path: `../../../../../../..${escape}/dotdot`, type: 'file', content: 'escaped' },
    ],
  },
  {
    name: 'tar entry with an absolute path',
    reason: /refused entry .*absolute path/,
    archive: (escape) => [
      { path: 'bridge', type: 'file', content: 'x' },
      { path: `${escape}/absolute`, type: 'file', content: 'escaped' },
    ],
  },
  {
    name: 'symlink to an absolute path outside',
    reason: /refused entry .*link to the absolute path/,
    archive: (escape) => [{ path: 'bridge', type: 'symlink', link: `${escape}/abs-link` }],
  },
  {
    name: 'symlink leading out with ../',
    reason: /refused entry .*leads outside the archive/,
    archive: () => [
      { path: 'up', type: 'symlink', link: '../../../../etc' },
      { path: 'loopback', type: 'file', content: 'x' },
    ],
  },
  {
    name: 'file written through an outward symlink',
    reason: /refused entry "(out|out\/passwd)"/,
    archive: (escape) => [
      { path: 'out', type: 'symlink', link: `../../../../../../../..${escape}` },
      { path: 'out/passwd', type: 'file', content: 'escaped' },
    ],
  },
  {
    name: 'symlink chain leading out',
    reason: /refused entry "(b|c)".*(leads outside|absolute)/,
    archive: () => [
      { path: 'a', type: 'dir' },
      { path: 'b', type: 'symlink', link: 'a/..' },
      { path: 'c', type: 'symlink', link: 'b/../..' },
    ],
  },
  {
    name: 'hardlink leading out',
    reason: /refused entry "hl".*leads outside/,
    archive: () => [{ path: 'hl', type: 'hardlink', link: '../../../../etc/passwd' }],
  },
];

export async function artifactArea(config: Record<string, any>, infra: Infra): Promise<Row[]> {
  const real = infra.manifest.get('cni-plugins');
  const arch = debianArch();
  const cases = await pool(CASES, 2, async (k, i) => {
    const c = new Checks(`artifact: ${k.name}`);
    // Each case gets its own version (its own mirror path), so faults never cross.
    const version = `9.0.${i + 1}`;
    const mirrorPath = `cni-plugins/v${version}/cni-plugins-linux-${arch}-v${version}.tgz`;
    const escape = join(WORK, `escape-${i}`);
    let file = real.file;
    if (k.archive) {
      file = join(WORK, `hostile-${i}.tgz`);
      await writeFile(file, tarball(k.archive(escape)));
    }
    const served = await infra.manifest.addFile(mirrorPath, file, { name: 'cni-plugins', version });
    if (k.fault) infra.mirror.setFault(mirrorPath, k.fault);
    const sha256 = k.wrongPin ? 'ab'.repeat(32) : served.sha256;
    const sb = await Sandbox.create(
      `artifact-${i}`,
      { ...config, cni: { version, sha256, podCIDR: '10.88.0.0/24' } },
      {
        FLEXNODE_DOWNLOAD_IDLE_TIMEOUT_MS: '400',
        FLEXNODE_DOWNLOAD_BACKOFF_MS: '20',
      },
    );
    const pristine = await sb.snapshot('restore');
    const run = await sb.run(['bootstrap', '--only', 'cni.plugins'], { timeoutMs: 60_000 });
    infra.mirror.setFault(mirrorPath, undefined);
    const text = `${run.stdout}\n${run.stderr}`;
    c.ok(run.code === 1, `exit ${run.code} (expected 1): ${excerpt(run)}`);
    c.ok(text.includes(`cni-plugins ${version} (${arch})`), `the message does not name the artifact: ${excerpt(run)}`);
    c.ok(k.reason.test(text.replace(/\s+/g, ' ')), `the message does not say ${k.reason}: ${excerpt(run)}`);
    const bin = sb.path('/opt/cni/bin');
    c.ok(!existsSync(bin) || readdirSync(bin).length === 0, `files in /opt/cni/bin: ${existsSync(bin) ? readdirSync(bin).join(', ') : ''}`);
    const staging = sb.path('/var/lib/flexnode/staging');
    c.ok(!existsSync(staging) || readdirSync(staging).length === 0, `staging not empty: ${existsSync(staging) ? readdirSync(staging).join(', ') : ''}`);
    const cache = sb.path('/var/lib/flexnode/cache');
    const cached = existsSync(cache) ? readdirSync(cache) : [];
    // A hostile archive is verified (its sha256 is pinned) and may stay cached; a bad download never may.
    const allowed = k.archive ? [served.sha256] : [];
    c.ok(
      cached.every((n) => allowed.includes(n)),
      `the cache holds ${cached.join(', ')}`,
    );
    if (cached.includes(served.sha256)) c.ok((await sha256File(join(cache, served.sha256))) === served.sha256, 'a cached file does not match its sha256');
    c.ok(!existsSync(escape), `something was written outside: ${escape}`);
    c.ok(sb.leftovers().length === 0, `temp files left: ${sb.leftovers().join(', ')}`);
    await sb.scan();
    const un = await sb.run(['unbootstrap']);
    c.ok(un.code === 0, `unbootstrap exited ${un.code}: ${excerpt(un)}`);
    const after = await sb.snapshot('restore');
    c.ok(JSON.stringify(after) === JSON.stringify(pristine), `not pristine after unbootstrap: ${diffTrees(pristine, after).join(', ')}`);
    await sb.dispose();
    return { k, c, ms: run.ms };
  });
  const downloads = cases.filter((x) => !x.k.archive);
  const archives = cases.filter((x) => x.k.archive);
  const stall = cases.find((x) => x.k.fault === 'stall');
  return [
    rowOf(
      'artifacts',
      `bad downloads refused (${downloads.map((x) => x.k.fault ?? 'pin').join(', ')})`,
      downloads.map((x) => x.c),
      stall ? `stall refused in ${(stall.ms / 1000).toFixed(1)} s` : undefined,
    ),
    rowOf(
      'artifacts',
      'hostile tarballs refused, nothing unpacked',
      archives.map((x) => x.c),
    ),
  ];
}
