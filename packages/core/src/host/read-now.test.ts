import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { listNow, lstatNow, quietly, readBytesNow, readTextNow, statBigNow, statNow } from './read-now.js';
import { makeTmp } from './support.test.helpers.js';

describe('host/read-now', () => {
  it('reads what is there; a missing path, or one under a file, is undefined', async () => {
    const dir = await makeTmp('flexnode-read-now-');
    const file = join(dir, 'f');
    await fs.writeFile(file, 'héllo');
    await fs.symlink('f', join(dir, 'link'));
    expect(readTextNow(file)).to.equal('héllo');
    expect(readTextNow(file, 'latin1')).to.equal(Buffer.from('héllo').toString('latin1'));
    expect(readBytesNow(file)?.equals(Buffer.from('héllo'))).to.equal(true);
    expect(lstatNow(join(dir, 'link'))?.isSymbolicLink()).to.equal(true);
    expect(statNow(join(dir, 'link'))?.isFile()).to.equal(true);
    expect(statBigNow(file)?.size).to.equal(6n);
    expect(listNow(dir)?.sort()).to.deep.equal(['f', 'link']);
    for (const gone of [join(dir, 'absent'), join(file, 'under-a-file')]) {
      expect(readTextNow(gone)).to.equal(undefined);
      expect(readBytesNow(gone)).to.equal(undefined);
      expect(lstatNow(gone)).to.equal(undefined);
      expect(statNow(gone)).to.equal(undefined);
      expect(statBigNow(gone)).to.equal(undefined);
      expect(listNow(gone)).to.equal(undefined);
    }
  });

  it('throws any other error (a directory read as a file); quietly swallows it', async () => {
    const dir = await makeTmp('flexnode-read-now-');
    await fs.writeFile(join(dir, 'f'), 'x');
    expect(() => readTextNow(dir))
      .to.throw()
      .with.property('code', 'EISDIR');
    expect(() => readBytesNow(dir))
      .to.throw()
      .with.property('code', 'EISDIR');
    expect(quietly(() => readTextNow(dir))).to.equal(undefined);
    expect(quietly(() => 42)).to.equal(42);
  });
});
