import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { makeHost, makeTmp, treeListing } from './support.test.helpers.js';

describe('real Host: notes (observations kept outside the journal)', () => {
  it("a dry run keeps its step's note (0600, under the state dir), another step does not see it, and the journal is untouched", async () => {
    const f = await makeHost();
    const journal = await fs.readFile(join(f.root, 'var/lib/flexnode/journal.json'), 'utf8').catch(() => '');
    const dry = (await makeHost({ root: f.root, dryRun: true })).real.forStep('kube.kubelet', '@flexnode/plugin-kube');
    await dry.notes.write('api-server', { lastAnswer: '2026-11-01T10:00:00.000Z' });
    expect(await dry.notes.read('api-server')).to.deep.equal({ lastAnswer: '2026-11-01T10:00:00.000Z' });
    expect(await f.real.forStep('other.step', 'p').notes.read('api-server')).to.equal(undefined);
    const file = join(f.root, 'var/lib/flexnode/notes/kube.kubelet/api-server.json');
    expect((await fs.stat(file)).mode & 0o777).to.equal(0o600);
    expect(f.plan).to.deep.equal([]);
    expect(await fs.readFile(join(f.root, 'var/lib/flexnode/journal.json'), 'utf8').catch(() => '')).to.equal(journal);
  });

  it('writes nothing where flexnode holds no state (never bootstrapped), and refuses names that are not plain', async () => {
    const root = await makeTmp();
    const before = await treeListing(root);
    const host = (await makeHost({ root, dryRun: true })).real.forStep('kube.kubelet', 'p');
    await host.notes.write('api-server', { x: 1 });
    expect(await host.notes.read('api-server')).to.equal(undefined);
    expect(await treeListing(root)).to.deep.equal(before);
    await host.notes.write('../escape', 1).then(
      () => expect.fail('written'),
      (e: Error) => expect(e.message).to.match(/note name/),
    );
  });
});
