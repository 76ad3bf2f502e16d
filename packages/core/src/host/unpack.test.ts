import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { UnsafeArchiveError } from '@flexnode/sdk';
import { expect } from 'chai';
import * as tar from 'tar';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { FlexnodeError } from '@flexnode/sdk';
import { bytesReadDuring, makeHost, makeTmp, rawTar, sha256, type RawEntry } from './support.test.helpers.js';

describe('host/downloads.unpack', () => {
  it('unpacks a tar.gz made by node-tar into a fresh staging dir with modes preserved; dispose removes it', async () => {
    const src = await makeTmp('flexnode-src-');
    await fs.mkdir(join(src, 'bin'));
    await fs.writeFile(join(src, 'bin/containerd'), 'ELF...', { mode: 0o755 });
    await fs.chmod(join(src, 'bin/containerd'), 0o755);
    await fs.writeFile(join(src, 'bin/notes.txt'), 'hello', { mode: 0o600 });
    await fs.chmod(join(src, 'bin/notes.txt'), 0o600);
    await fs.symlink('containerd', join(src, 'bin/containerd-alias'));
    const archive = join(await makeTmp('flexnode-archive-'), 'containerd.tar.gz');
    await tar.c({ gzip: true, file: archive, cwd: src }, ['bin']);

    const { root, real } = await makeHost();
    const host = real.forStep('containerd.binaries', 'p');
    const dir = await host.downloads.unpack(archive);
    expect(dir.startsWith(join(root, 'var/lib/flexnode/staging/'))).to.equal(true);
    expect((await fs.stat(dir)).mode & 0o777).to.equal(0o700);
    expect(await fs.readFile(join(dir, 'bin/containerd'), 'utf8')).to.equal('ELF...');
    expect((await fs.stat(join(dir, 'bin/containerd'))).mode & 0o7777).to.equal(0o755);
    expect((await fs.stat(join(dir, 'bin/notes.txt'))).mode & 0o7777).to.equal(0o600);
    expect(await fs.readlink(join(dir, 'bin/containerd-alias'))).to.equal('containerd');
    const second = await host.downloads.unpack(archive);
    expect(second).not.to.equal(dir);
    // Unpacking is not a change to the machine: nothing journaled.
    expect(host.changes.list()).to.deep.equal([]);
    await real.dispose();
    expect(await fs.readdir(join(root, 'var/lib/flexnode/staging'))).to.deep.equal([]);
  });

  it('also unpacks a plain tar made by the tar command', async () => {
    const src = await makeTmp('flexnode-src-');
    await fs.writeFile(join(src, 'runc'), 'x', { mode: 0o755 });
    const archive = join(src, 'runc.tar');
    execFileSync('tar', ['-cf', archive, '-C', src, 'runc']);
    const { real } = await makeHost();
    const dir = await real.forStep('s', 'p').downloads.unpack(archive);
    expect(await fs.readdir(dir)).to.deep.equal(['runc']);
    await real.dispose();
  });

  const unsafe: [string, RawEntry[], string][] = [
    [
      'a ../ path',
      [
        { path: 'ok', content: 'fine' },
        { path: '../x', content: 'evil' },
      ],
      '../x',
    ],
    [
      'an absolute path',
      [
        { path: 'ok', content: 'fine' },
        { path: '/etc/x', content: 'evil' },
      ],
      '/etc/x',
    ],
    [
      'a symlink to /',
      [
        { path: 'ok', content: 'fine' },
        { path: 'rootlink', type: 'SymbolicLink', linkpath: '/' },
      ],
      'rootlink',
    ],
    [
      'a symlink to ../../..',
      [
        { path: 'ok', content: 'fine' },
        { path: 'a/up', type: 'SymbolicLink', linkpath: '../../..' },
      ],
      'a/up',
    ],
    [
      'a hardlink out',
      [
        { path: 'ok', content: 'fine' },
        { path: 'h', type: 'Link', linkpath: '../outside' },
      ],
      'h',
    ],
    [
      'a symlink escaping through another symlink',
      [
        { path: 'd/l', type: 'SymbolicLink', linkpath: '..' },
        { path: 's', type: 'SymbolicLink', linkpath: 'd/l/..' },
      ],
      's',
    ],
    [
      'a symlink that a later symlink makes escape (judged again once every entry is in)',
      [
        { path: 'ok', content: 'fine' },
        { path: 's', type: 'SymbolicLink', linkpath: 'd/x/../..' },
        { path: 'd/', type: 'Directory' },
        { path: 'd/x', type: 'SymbolicLink', linkpath: '..' },
        { path: 'later', content: 'also fine' },
      ],
      's',
    ],
    [
      'a character device',
      [
        { path: 'ok', content: 'fine' },
        { path: 'null', type: 'CharacterDevice' },
      ],
      'null',
    ],
    [
      'a fifo',
      [
        { path: 'ok', content: 'fine' },
        { path: 'pipe', type: 'FIFO' },
      ],
      'pipe',
    ],
  ];
  for (const [what, entries, bad] of unsafe) {
    it(`refuses an archive with ${what}, naming the entry, with nothing extracted`, async () => {
      const { root, real } = await makeHost();
      const dir = await makeTmp('flexnode-evil-');
      const archive = join(dir, 'evil.tar');
      await fs.writeFile(archive, rawTar(entries));
      let thrown: unknown;
      await real
        .forStep('s', 'p')
        .downloads.unpack(archive)
        .catch((e) => (thrown = e));
      expect(thrown).to.be.instanceOf(UnsafeArchiveError);
      expect((thrown as Error).message)
        .to.contain(`"${bad}"`)
        .and.contain(archive);
      expect(await fs.readdir(join(root, 'var/lib/flexnode/staging')).catch(() => [])).to.deep.equal([]);
      expect(await fs.readdir(dir)).to.deep.equal(['evil.tar']);
      await real.dispose();
    });
  }

  it('reads the archive once, inflating and vetting as it extracts, and knows the hash of every file it wrote', async () => {
    // Incompressible content: the gzip is about as large as what it holds, so a second read would show.
    const big = randomBytes(3 << 20).toString('base64');
    const archive = join(await makeTmp('flexnode-once-'), 'big.tar.gz');
    await fs.writeFile(
      archive,
      gzipSync(
        rawTar([
          { path: 'bin/', type: 'Directory' },
          { path: 'bin/tool', content: big, mode: 0o755 },
          { path: 'bin/small', content: 'x' },
        ]),
      ),
    );
    const size = (await fs.stat(archive)).size;
    const { root, real } = await makeHost();
    const host = real.forStep('s', 'p');
    let dir = '';
    const read = await bytesReadDuring(async () => (dir = await host.downloads.unpack(archive)));
    expect(read)
      .to.be.above(size - 1)
      .and.below(size * 1.2);
    expect(await fs.readFile(join(dir, 'bin/tool'), 'utf8')).to.equal(big);
    const staged = dir.slice(root.length);
    let hash: string | undefined;
    expect(await bytesReadDuring(async () => (hash = await host.files.sha256(`${staged}/bin/tool`)))).to.be.below(1024);
    expect(hash).to.equal(sha256(big));
    // And the installed copy: same hash, not read for it either.
    await host.files.copyFrom(join(dir, 'bin/tool'), '/usr/bin/tool', { mode: 0o755 });
    expect(await bytesReadDuring(async () => (hash = await host.files.sha256('/usr/bin/tool')))).to.be.below(1024);
    expect(hash).to.equal(sha256(big));
    expect((await fs.stat(join(root, 'usr/bin/tool'))).mode & 0o7777).to.equal(0o755);
    await real.dispose();
  });

  it('a corrupted gzip is refused with nothing left in staging', async () => {
    const good = gzipSync(
      rawTar([
        { path: 'a', content: randomBytes(200_000).toString('hex') },
        { path: 'b', content: 'x' },
      ]),
    );
    const bad = Buffer.from(good);
    for (let i = 2000; i < 2100; i++) bad[i] = bad[i]! ^ 0xff;
    const archive = join(await makeTmp('flexnode-bad-'), 'bad.tar.gz');
    await fs.writeFile(archive, bad);
    const { root, real } = await makeHost();
    let thrown: unknown;
    await real
      .forStep('s', 'p')
      .downloads.unpack(archive)
      .catch((e) => (thrown = e));
    expect(thrown).to.be.instanceOf(FlexnodeError);
    expect((thrown as FlexnodeError).code).to.equal('ARCHIVE_INVALID');
    expect(await fs.readdir(join(root, 'var/lib/flexnode/staging')).catch(() => [])).to.deep.equal([]);
    await real.dispose();
  });

  it('accepts symlinks that stay inside', async () => {
    const archive = join(await makeTmp('flexnode-ok-'), 'ok.tar');
    await fs.writeFile(
      archive,
      rawTar([
        { path: 'bin/', type: 'Directory' },
        { path: 'lib/', type: 'Directory' },
        { path: 'lib/tool', content: 'x', mode: 0o755 },
        { path: 'bin/alias', type: 'SymbolicLink', linkpath: '../lib/tool' },
      ]),
    );
    const { real } = await makeHost();
    const dir = await real.forStep('s', 'p').downloads.unpack(archive);
    expect(await fs.readFile(join(dir, 'bin/alias'), 'utf8')).to.equal('x');
    await real.dispose();
  });
});
