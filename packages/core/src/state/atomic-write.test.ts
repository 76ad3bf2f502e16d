import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFlexnodeError } from '@flexnode/sdk';
import { expect } from 'chai';
import { writeFileAtomic } from './atomic-write.js';

describe('state/writeFileAtomic', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'flexnode-atomic-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('writes content with the exact mode (past the umask) and leaves no temp file', async () => {
    const path = join(dir, 'a.json');
    await writeFileAtomic(path, 'one', { mode: 0o640 });
    await writeFileAtomic(path, 'two', { mode: 0o664 });
    expect(await fs.readFile(path, 'utf8')).to.equal('two');
    expect((await fs.stat(path)).mode & 0o777).to.equal(0o664);
    expect(await fs.readdir(dir)).to.deep.equal(['a.json']);
  });

  it('sets the owner when asked', async function () {
    if (process.geteuid?.() !== 0) this.skip();
    const path = join(dir, 'owned');
    await writeFileAtomic(path, 'x', { mode: 0o600, uid: 1234, gid: 4321 });
    const stat = await fs.stat(path);
    expect([stat.uid, stat.gid, stat.mode & 0o777]).to.deep.equal([1234, 4321, 0o600]);
  });

  it('on failure removes the temp file and keeps the previous file', async () => {
    const path = join(dir, 'keep');
    await writeFileAtomic(path, 'old', { mode: 0o644 });
    let thrown: unknown;
    try {
      await writeFileAtomic(path, 'new', {
        mode: 0o644,
        beforeRename: () => {
          throw new Error('boom');
        },
      });
    } catch (error) {
      thrown = error;
    }
    expect((thrown as Error).message).to.equal('boom');
    expect(await fs.readFile(path, 'utf8')).to.equal('old');
    expect(await fs.readdir(dir)).to.deep.equal(['keep']);
  });

  describe('on a full disk', () => {
    let mnt: string | undefined;
    before(function () {
      // A 64 kB tmpfs is a real full disk; needs root and mount (skip otherwise, saying why).
      mnt = join(tmpdir(), `flexnode-full-${process.pid}`);
      try {
        execFileSync('mkdir', ['-p', mnt]);
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { stdio: 'pipe' });
      } catch (error) {
        console.log(`      SKIP: cannot mount a small tmpfs (${(error as Error).message.split('\n')[0]})`);
        mnt = undefined;
        this.skip();
      }
    });
    after(async () => {
      if (mnt) execFileSync('umount', [mnt]);
      if (mnt) await fs.rmdir(mnt);
    });

    it('throws DISK_FULL naming the path, removes the temp file and keeps the previous file', async () => {
      const path = join(mnt!, 'journal.json');
      await writeFileAtomic(path, 'previous', { mode: 0o600 });
      let thrown: unknown;
      try {
        await writeFileAtomic(path, Buffer.alloc(256 * 1024, 1), { mode: 0o600 });
      } catch (error) {
        thrown = error;
      }
      expect(isFlexnodeError(thrown)).to.equal(true);
      expect((thrown as { code: string }).code).to.equal('DISK_FULL');
      expect((thrown as Error).message)
        .to.contain('disk is full')
        .and.contain(path);
      expect(await fs.readFile(path, 'utf8')).to.equal('previous');
      expect(await fs.readdir(mnt!)).to.deep.equal(['journal.json']);
    });
  });
});
