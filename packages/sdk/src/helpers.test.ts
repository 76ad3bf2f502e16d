import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { installFiles } from './helpers.js';
import { MemoryHost } from './testing/index.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('sdk/helpers installFiles', () => {
  it('copies each file with mode 0755 and returns the installed paths with their sha256, in order', async () => {
    const machine = new MemoryHost();
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (const n of names) machine.seedFile(`/stage/${n}`, `content of ${n}`);
    const files = await installFiles(machine.forStep('test.copy'), '/stage', '/usr/bin', names);
    expect(Object.keys(files)).to.deep.equal(names.map((n) => `/usr/bin/${n}`));
    for (const n of names) {
      expect(files[`/usr/bin/${n}`]).to.equal(sha256(`content of ${n}`));
      expect(machine.files.get(`/usr/bin/${n}`)?.mode).to.equal(0o755);
    }
  });

  it('after a failed copy starts no new one and throws that error', async () => {
    const machine = new MemoryHost();
    const names = Array.from({ length: 12 }, (_, i) => `f${i}`);
    for (const n of names) if (n !== 'f2') machine.seedFile(`/stage/${n}`, n); // f2 is missing: its copy fails
    const error = await installFiles(machine.forStep('test.copy'), '/stage', '/usr/bin', names).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).to.match(/f2/);
    const copied = names.filter((n) => machine.files.has(`/usr/bin/${n}`));
    // at most the copies already under way (4 at a time) finished; the last files were never started
    expect(copied.length).to.be.below(names.length - 1);
    expect(machine.files.has('/usr/bin/f11')).to.equal(false);
  });
});
