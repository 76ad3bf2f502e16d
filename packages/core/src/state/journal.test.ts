import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Journal } from './journal.js';

const journalModule = fileURLToPath(new URL('./journal.js', import.meta.url));

/** Run a mutation of the journal in a child process that SIGKILLs itself at a crash point. */
function crashChild(stateDir: string, crashAt: string) {
  const script = `
    const { Journal } = await import(${JSON.stringify(journalModule)});
    const j = await Journal.open(${JSON.stringify(stateDir)});
    await j.append('b', { kind: 'mkdir', path: '/etc/b' }, { plugin: 'p' });
  `;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, FLEXNODE_CRASH_AT: crashAt }, encoding: 'utf8' });
}

describe('state/Journal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'flexnode-journal-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('starts empty and persists every mutation at once', async () => {
    const j = await Journal.open(dir);
    expect(j.entries()).to.deep.equal([]);
    await j.setStatus('a', 'installing', { plugin: '@flexnode/plugin-x' });
    await j.append('a', { kind: 'mkdir', path: '/etc/x' });
    await j.append('b', { kind: 'sysctl', key: 'k', before: '0' }, { plugin: 'p2' });
    await j.setStatus('a', 'failed', { error: 'boom' });

    const again = await Journal.open(dir);
    expect(again.entries().map(([id]) => id)).to.deep.equal(['a', 'b']);
    expect(again.get('a')).to.include({ plugin: '@flexnode/plugin-x', status: 'failed', error: 'boom' });
    expect(again.get('a')!.changes).to.deep.equal([{ kind: 'mkdir', path: '/etc/x' }]);
    expect(again.get('b')).to.include({ plugin: 'p2', status: 'installing' });
    const raw = JSON.parse(await fs.readFile(join(dir, 'journal.json'), 'utf8'));
    expect(raw.version).to.equal(1);
    expect(raw.order).to.deep.equal(['a', 'b']);
    expect((await fs.stat(join(dir, 'journal.json'))).mode & 0o777).to.equal(0o600);
  });

  it('clears the error when the status moves on, removes changes and drops steps', async () => {
    const j = await Journal.open(dir);
    await j.setStatus('a', 'failed', { plugin: 'p', error: 'e' });
    await j.append('a', { kind: 'mkdir', path: '/1' });
    await j.append('a', { kind: 'mkdir', path: '/2' });
    await j.setStatus('a', 'installed');
    expect(j.get('a')!.error).to.equal(undefined);
    expect(await j.removeChanges('a', (c) => c.kind === 'mkdir' && c.path === '/1')).to.equal(1);
    expect((await Journal.open(dir)).get('a')!.changes).to.deep.equal([{ kind: 'mkdir', path: '/2' }]);
    await j.drop('a');
    expect((await Journal.open(dir)).entries()).to.deep.equal([]);
  });

  it('serialises concurrent mutations: none is lost', async () => {
    const j = await Journal.open(dir);
    await Promise.all(Array.from({ length: 30 }, (_, i) => j.append(`s${i % 3}`, { kind: 'mkdir', path: `/d${i}` })));
    const again = await Journal.open(dir);
    const total = again.entries().reduce((n, [, r]) => n + r.changes.length, 0);
    expect(total).to.equal(30);
  });

  it('mutations made while a write waits share it, and each caller resumes only once its change is on disk', async () => {
    const j = await Journal.open(dir);
    const real = fs.rename;
    let renames = 0;
    fs.rename = (async (...args: Parameters<typeof real>) => {
      renames++;
      return real(...args);
    }) as typeof real;
    try {
      await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          await j.append(`s${i}`, { kind: 'mkdir', path: `/d${i}` }, { plugin: 'p' });
          const onDisk = JSON.parse(await fs.readFile(j.path, 'utf8')) as { steps: Record<string, { changes: unknown[] }> };
          expect(onDisk.steps[`s${i}`]?.changes, `s${i} resumed before its change was written`).to.deep.equal([{ kind: 'mkdir', path: `/d${i}` }]);
        }),
      );
      // made in one tick, the 20 share one write
      expect(renames).to.equal(1);
      // one made while a write is under way gets the next write
      const first = j.append('late', { kind: 'mkdir', path: '/a' });
      await new Promise((resolve) => setImmediate(resolve)); // the first write has taken its snapshot
      const second = j.append('late', { kind: 'mkdir', path: '/b' });
      await Promise.all([first, second]);
      expect(renames).to.equal(3);
      expect((await Journal.open(dir)).get('late')?.changes).to.have.length(2);
    } finally {
      fs.rename = real;
    }
  });

  it('refuses a corrupt journal with an error naming the file, and leaves it as it is', async () => {
    await fs.writeFile(join(dir, 'journal.json'), '{"version": 1, "steps": {');
    let thrown: unknown;
    try {
      await Journal.open(dir);
    } catch (error) {
      thrown = error;
    }
    expect((thrown as { code: string }).code).to.equal('JOURNAL_CORRUPT');
    expect((thrown as Error).message).to.contain(join(dir, 'journal.json'));
    expect(await fs.readFile(join(dir, 'journal.json'), 'utf8')).to.equal('{"version": 1, "steps": {');
  });

  it('refuses an unknown version', async () => {
    await fs.writeFile(join(dir, 'journal.json'), '{"version": 2, "steps": {}, "order": []}');
    let thrown: unknown;
    await Journal.open(dir).catch((e) => (thrown = e));
    expect((thrown as Error).message).to.contain('version 2');
  });

  it('a process killed between write and rename leaves the previous journal intact, and the next write works', async () => {
    const j = await Journal.open(dir);
    await j.append('a', { kind: 'mkdir', path: '/etc/a' }, { plugin: 'p' });
    const before = await fs.readFile(join(dir, 'journal.json'), 'utf8');

    const child = crashChild(dir, 'journal:before-rename');
    expect(child.signal).to.equal('SIGKILL');
    expect(await fs.readFile(join(dir, 'journal.json'), 'utf8')).to.equal(before);
    // The dead process left its temp file: the next open sweeps it and the next write succeeds.
    expect((await fs.readdir(dir)).some((n) => n.startsWith('.flexnode-tmp-'))).to.equal(true);
    const next = await Journal.open(dir);
    expect(next.entries().map(([id]) => id)).to.deep.equal(['a']);
    expect((await fs.readdir(dir)).some((n) => n.startsWith('.flexnode-tmp-'))).to.equal(false);
    await next.append('c', { kind: 'mkdir', path: '/etc/c' });
    expect((await Journal.open(dir)).entries().map(([id]) => id)).to.deep.equal(['a', 'c']);
  });

  it('a process killed right after the rename leaves the new journal complete', async () => {
    await (await Journal.open(dir)).append('a', { kind: 'mkdir', path: '/etc/a' });
    const child = crashChild(dir, 'journal:after-rename');
    expect(child.signal).to.equal('SIGKILL');
    const j = await Journal.open(dir);
    expect(j.entries().map(([id]) => id)).to.deep.equal(['a', 'b']);
    expect(j.get('b')!.changes).to.deep.equal([{ kind: 'mkdir', path: '/etc/b' }]);
  });

  it('stores backups content-addressed, mode 0600, and a re-backup is free', async () => {
    const j = await Journal.open(dir);
    const src = join(dir, 'secret.conf');
    await fs.writeFile(src, 'token=abc');
    const id = await j.backups.saveFile(src);
    const again = await j.backups.saveFile(src);
    expect(again).to.equal(id);
    expect(j.backupDir).to.equal(join(dir, 'backups'));
    expect(await fs.readdir(j.backupDir)).to.deep.equal([id]);
    expect((await fs.stat(join(j.backupDir, id))).mode & 0o777).to.equal(0o600);
    expect(await fs.readFile(j.backups.path(id), 'utf8')).to.equal('token=abc');
  });
});
