import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { checkMirrorTarget } from './target.js';

describe('mirror sync --to: refused before anything is written', () => {
  let work: string;
  beforeEach(async () => (work = await fs.mkdtemp(join(tmpdir(), 'flexnode-mirror-to-'))));
  afterEach(() => fs.rm(work, { recursive: true, force: true }));

  const refusal = async (to: string) => {
    try {
      await checkMirrorTarget(to);
    } catch (error) {
      return error as Error & { exitCode: number; code: string };
    }
    throw new Error(`${to} was accepted`);
  };

  it('accepts a new or existing directory of ours, through symlinks, and writes nothing while checking', async () => {
    expect(await checkMirrorTarget(join(work, 'a/b/c'))).to.equal(join(work, 'a/b/c'));
    await fs.mkdir(join(work, 'real'));
    await fs.symlink(join(work, 'real'), join(work, 'link'));
    expect(await checkMirrorTarget(join(work, 'link/sub'))).to.equal(join(work, 'real/sub'));
    expect((await fs.readdir(work)).sort()).to.deep.equal(['link', 'real']);
    expect(await fs.readdir(join(work, 'real'))).to.deep.equal([]);
  });

  it('refuses a path that is a file (or has a file on the way)', async () => {
    await fs.writeFile(join(work, 'file'), 'x');
    for (const to of [join(work, 'file'), join(work, 'file/sub')]) {
      const e = await refusal(to);
      expect(e.exitCode, to).to.equal(2);
      expect(e.message).to.match(/exists and is not a directory/);
    }
  });

  it('refuses a world-writable target and a world-writable directory on the way, sticky or not, unless it holds a directory of ours', async () => {
    const open = join(work, 'open');
    await fs.mkdir(open);
    await fs.chmod(open, 0o777);
    expect((await refusal(open)).message).to.match(/writable by everyone \(mode 0777\)/);
    expect((await refusal(join(open, 'mirror'))).message).to.match(/open on the way to it is writable by everyone/);
    await fs.mkdir(join(open, 'mine'));
    expect((await refusal(join(open, 'mine/mirror'))).exitCode, 'non-sticky parent').to.equal(2);

    const sticky = join(work, 'sticky');
    await fs.mkdir(sticky);
    await fs.chmod(sticky, 0o1777);
    expect((await refusal(join(sticky, 'new'))).message, 'created right in a sticky dir').to.match(/created right in it/);
    await fs.mkdir(join(sticky, 'mine'), { mode: 0o755 });
    expect(await checkMirrorTarget(join(sticky, 'mine/mirror'))).to.equal(join(sticky, 'mine/mirror'));
    expect(await checkMirrorTarget(join(sticky, 'mine'))).to.equal(join(sticky, 'mine'));
  });
});
