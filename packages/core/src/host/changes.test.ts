import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Journal } from '../state/journal.js';
import { makeHost } from './support.test.helpers.js';

const realHostModule = fileURLToPath(new URL('./real-host.js', import.meta.url));
const journalModule = fileURLToPath(new URL('../state/journal.js', import.meta.url));

describe('host/changes', () => {
  it('custom records are left by revert, and forget removes them', async () => {
    const { real } = await makeHost();
    const host = real.forStep('arc.connect', 'p');
    await host.changes.record('arc-machine', { id: 'm1' });
    await host.files.write('/etc/arc.conf', 'x');
    await host.changes.record('arc-machine', { id: 'm2' });
    await host.changes.revert();
    expect(host.changes.list()).to.deep.equal([
      { kind: 'custom', type: 'arc-machine', data: { id: 'm1' } },
      { kind: 'custom', type: 'arc-machine', data: { id: 'm2' } },
    ]);
    await host.changes.forget('arc-machine', (d) => d.id === 'm1');
    expect(host.changes.list()).to.deep.equal([{ kind: 'custom', type: 'arc-machine', data: { id: 'm2' } }]);
    await host.changes.forget('arc-machine');
    expect(host.changes.list()).to.deep.equal([]);
  });

  it('reverts only its own step, newest first, across two steps touching the same file', async () => {
    const { root, real } = await makeHost();
    await fs.mkdir(join(root, 'etc'), { recursive: true });
    await fs.writeFile(join(root, 'etc/shared.conf'), 'original');
    const a = real.forStep('a', 'p');
    const b = real.forStep('b', 'p');
    await a.files.write('/etc/shared.conf', 'from a');
    await b.files.write('/etc/shared.conf', 'from b');
    await b.changes.revert();
    expect(await fs.readFile(join(root, 'etc/shared.conf'), 'utf8')).to.equal('from a');
    expect(a.changes.list()).to.have.length(1);
    await a.changes.revert();
    expect(await fs.readFile(join(root, 'etc/shared.conf'), 'utf8')).to.equal('original');
  });

  it("a directory one step made and another step's file is still in goes with the step reverted last", async () => {
    const { root, real, reload } = await makeHost();
    await fs.mkdir(join(root, 'etc'), { recursive: true });
    await fs.writeFile(join(root, 'etc/operator.conf'), 'kept');
    // The runtime's config made /etc/cni/net.d first; the CNI step found it there and wrote its network into it.
    const runtime = real.forStep('containerd.config', 'p');
    const cni = real.forStep('cni.bridge-config', 'p');
    await runtime.files.mkdir('/etc/cni/net.d');
    await runtime.files.write('/etc/containerd/config.toml', 'x');
    await cni.files.write('/etc/cni/net.d/99-bridge.conflist', '{}');
    expect(cni.changes.list().map((c) => c.kind)).to.deep.equal(['file']);
    // A resumed run can journal the CNI step first, so the runtime's config is reverted first.
    await runtime.changes.revert();
    expect(await fs.readFile(join(root, 'etc/cni/net.d/99-bridge.conflist'), 'utf8')).to.equal('{}');
    expect((await reload()).get('cni.bridge-config')!.changes.map((c) => (c.kind === 'mkdir' ? c.path : c.kind))).to.deep.equal([
      '/etc/cni',
      '/etc/cni/net.d',
      'file',
    ]);
    await cni.changes.revert();
    expect(await fs.readdir(join(root, 'etc'))).to.deep.equal(['operator.conf']);
    // What no step wrote keeps a directory in place, and nobody is handed it.
    await fs.mkdir(join(root, 'etc/mine'));
    const other = real.forStep('other', 'p');
    await other.files.mkdir('/etc/mine/sub');
    await fs.writeFile(join(root, 'etc/mine/sub/own.txt'), 'operator');
    await other.changes.revert();
    expect(await fs.readFile(join(root, 'etc/mine/sub/own.txt'), 'utf8')).to.equal('operator');
    expect(other.changes.list()).to.deep.equal([]);
  });

  it('a revert killed halfway resumes in the next run and completes the restore', async () => {
    const { root, real, reload } = await makeHost();
    await fs.mkdir(join(root, 'etc'), { recursive: true });
    await fs.writeFile(join(root, 'etc/a.conf'), 'A0');
    const host = real.forStep('s', 'p');
    await host.files.write('/etc/a.conf', 'A1');
    await host.files.write('/etc/new/b.conf', 'B1');
    await fs.mkdir(join(root, 'proc/sys/vm'), { recursive: true });
    await fs.writeFile(join(root, 'proc/sys/vm/swappiness'), '60\n');
    await host.sysctl.set('vm.swappiness', '0');
    const total = host.changes.list().length;

    // The child undoes the newest change, then dies before the journal forgets it.
    const script = `
      const { createRealHost } = await import(${JSON.stringify(realHostModule)});
      const { Journal } = await import(${JSON.stringify(journalModule)});
      const journal = await Journal.open(${JSON.stringify(join(root, 'var/lib/flexnode'))});
      const log = { debug() {}, info() {}, warn() {}, error() {} };
      const real = createRealHost({ root: ${JSON.stringify(root)}, dryRun: false, stateDir: '/var/lib/flexnode', journal, log, redact: (s) => s });
      await real.forStep('s', 'p').changes.revert();
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, FLEXNODE_CRASH_AT: 'journal:before-rename' },
      encoding: 'utf8',
    });
    expect(child.signal, child.stderr).to.equal('SIGKILL');
    expect(await fs.readFile(join(root, 'proc/sys/vm/swappiness'), 'utf8')).to.equal('60\n');
    const journal = await reload();
    expect(journal.get('s')!.changes).to.have.length(total); // the undo happened, its removal did not

    const again = await makeHost({ root, journal });
    await again.real.forStep('s', 'p').changes.revert();
    expect(await fs.readFile(join(root, 'etc/a.conf'), 'utf8')).to.equal('A0');
    expect(await fs.lstat(join(root, 'etc/new')).catch(() => undefined)).to.equal(undefined);
    expect(await fs.readFile(join(root, 'proc/sys/vm/swappiness'), 'utf8')).to.equal('60\n');
    expect((await Journal.open(join(root, 'var/lib/flexnode'))).get('s')!.changes).to.deep.equal([]);
    // And a second revert does nothing.
    await again.real.forStep('s', 'p').changes.revert();
    expect(await fs.readFile(join(root, 'etc/a.conf'), 'utf8')).to.equal('A0');
  });
});
