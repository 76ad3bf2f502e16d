// readSecretFile against the files an attacker or a mistake puts at clientSecretFile: each is refused (exit 2)
// quickly, without blocking on a fifo, reading a device, or growing memory, and the message never holds the content.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSecretFile } from './secret-file.js';

describe('SDK readSecretFile', function () {
  this.timeout(20_000);
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'flexnode-secret-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  const refusal = async (path: string) => {
    const started = Date.now();
    const error = await readSecretFile(path, 'azure.servicePrincipal.clientSecretFile').then(
      () => undefined,
      (e: Error & { exitCode?: number }) => e,
    );
    return { error, ms: Date.now() - started };
  };

  it('reads a 0600 regular file (and one behind a symlink), trimming the newline', async () => {
    await writeFile(join(dir, 'ok'), 's3cret\n', { mode: 0o600 });
    await symlink(join(dir, 'ok'), join(dir, 'link'));
    expect(await readSecretFile(join(dir, 'ok'), 'f')).to.deep.equal({ secret: 's3cret', warnings: [] });
    expect((await readSecretFile(join(dir, 'link'), 'f')).secret).to.equal('s3cret');
  });

  it('warns, but reads, when others can read it', async () => {
    await writeFile(join(dir, 'readable'), 's3cret', { mode: 0o644 });
    await chmod(join(dir, 'readable'), 0o644);
    const read = await readSecretFile(join(dir, 'readable'), 'f');
    expect(read.secret).to.equal('s3cret');
    expect(read.warnings.join()).to.match(/readable by other users \(mode 0644\)/);
  });

  it('refuses /dev/zero, a fifo, a directory, a symlink to a device, a 10 MB file, a world-writable file, an empty one: exit 2, fast', async () => {
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    await mkdir(join(dir, 'dir'));
    await symlink('/dev/zero', join(dir, 'to-zero'));
    await writeFile(join(dir, 'big'), '');
    await truncate(join(dir, 'big'), 10 << 20);
    await writeFile(join(dir, 'ww'), 'leaked-secret', { mode: 0o600 });
    await chmod(join(dir, 'ww'), 0o666);
    await writeFile(join(dir, 'empty'), '\n', { mode: 0o600 });
    await writeFile(join(dir, 'lines'), 'a\nb\n', { mode: 0o600 });
    const cases: [string, RegExp][] = [
      ['/dev/zero', /is a device, not a regular file/],
      [join(dir, 'fifo'), /named pipe/],
      [join(dir, 'dir'), /is a directory/],
      [join(dir, 'to-zero'), /is a device/],
      [join(dir, 'big'), /10485760 bytes: a secret file holds at most 4096/],
      [join(dir, 'ww'), /writable by every user \(mode 0666\)/],
      [join(dir, 'empty'), /is empty/],
      [join(dir, 'lines'), /several lines/],
      [join(dir, 'absent'), /does not exist/],
    ];
    for (const [path, message] of cases) {
      const { error, ms } = await refusal(path);
      expect(error?.message, path).to.match(message).and.include(path);
      expect(error?.exitCode, path).to.equal(2);
      expect(error?.message).to.not.include('leaked-secret');
      expect(ms, path).to.be.lessThan(2000);
    }
  });

  it('refuses a file owned by another user', async function () {
    if (process.geteuid?.() !== 0) this.skip();
    await writeFile(join(dir, 'theirs'), 's', { mode: 0o600 });
    await chown(join(dir, 'theirs'), 65534, 65534);
    expect((await refusal(join(dir, 'theirs'))).error?.message).to.match(/owned by uid 65534, not root/);
  });
});
