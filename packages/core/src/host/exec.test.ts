import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { ExecError } from '@flexnode/sdk';
import { expect } from 'chai';
import { which } from './exec.js';
import { makeHost, makeTmp } from './support.test.helpers.js';

describe('host/exec', () => {
  it('runs an argument array (no shell), captures output, journals a mutating command', async () => {
    const { real } = await makeHost();
    const host = real.forStep('s', 'p');
    const result = await host.exec.run('echo', ['a b', '$HOME', ';', 'x'], { describe: 'say hello' });
    expect(result).to.deep.equal({ exitCode: 0, stdout: 'a b $HOME ; x\n', stderr: '' });
    expect(host.changes.list()).to.deep.equal([{ kind: 'exec', command: 'echo', args: ['a b', '$HOME', ';', 'x'], describe: 'say hello' }]);
    await host.exec.run('cat', [], { input: 'from stdin', mutates: false }).then((r) => expect(r.stdout).to.equal('from stdin'));
    expect(host.changes.list()).to.have.length(1);
    // exec changes cannot be undone: revert leaves them.
    await host.changes.revert();
    expect(host.changes.list()).to.have.length(1);
  });

  it('throws ExecError with the per-call secrets and the run redaction applied to stderr', async () => {
    const { real } = await makeHost();
    const host = real.forStep('arc.connect', 'p');
    let thrown: unknown;
    await host.exec
      .run('sh', ['-c', 'echo "token=TOKEN-123 password=hunter2" >&2; exit 3'], { secrets: ['TOKEN-123'], mutates: false })
      .catch((e) => (thrown = e));
    expect(thrown).to.be.instanceOf(ExecError);
    const message = (thrown as Error).message;
    expect(message).to.contain('exited with code 3').and.contain('token=***').and.contain('[redacted]');
    expect(message).not.to.contain('TOKEN-123');
    expect(message).not.to.contain('hunter2');
    expect((thrown as ExecError).stderr).not.to.contain('TOKEN-123');
  });

  it('allowFailure resolves with the exit code; a missing command is exit 127; a timeout throws', async () => {
    const { real } = await makeHost();
    const host = real.forStep('s', 'p');
    expect((await host.exec.run('sh', ['-c', 'exit 4'], { allowFailure: true, mutates: false })).exitCode).to.equal(4);
    expect((await host.exec.run('no-such-command-xyz', [], { allowFailure: true, mutates: false })).exitCode).to.equal(127);
    let thrown: unknown;
    await host.exec.run('sleep', ['5'], { timeoutMs: 200, mutates: false }).catch((e) => (thrown = e));
    expect((thrown as Error).message).to.contain('timed out');
    expect(await host.exec.which('sh')).to.match(/\/sh$/);
    expect(await host.exec.which('no-such-command-xyz')).to.equal(undefined);
  });

  it('which skips PATH entries that are files, directories named like the command and files nobody may run', async () => {
    const dir = await makeTmp('flexnode-which-');
    const notADir = join(dir, 'plain-file');
    await fs.writeFile(notADir, '');
    for (const d of ['a', 'b', 'c', 'd']) await fs.mkdir(join(dir, d));
    await fs.mkdir(join(dir, 'a', 'tool')); // a directory, not a command
    await fs.writeFile(join(dir, 'b', 'tool'), '#!/bin/sh\n', { mode: 0o644 }); // not executable
    await fs.writeFile(join(dir, 'c', 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    await fs.writeFile(join(dir, 'd', 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    const saved = process.env.PATH;
    process.env.PATH = [notADir, join(dir, 'missing'), join(dir, 'a'), join(dir, 'b'), join(dir, 'c'), join(dir, 'd')].join(':');
    try {
      expect(await which('tool')).to.equal(join(dir, 'c', 'tool'));
      expect(await which('no-such-tool')).to.equal(undefined);
      expect(await which(join(dir, 'd', 'tool'))).to.equal(join(dir, 'd', 'tool'));
      expect(await which(join(dir, 'b', 'tool'))).to.equal(undefined);
    } finally {
      process.env.PATH = saved;
    }
  });

  it('in a dry run a mutating command is planned, not run; a read-only one runs', async () => {
    const { real, plan } = await makeHost({ dryRun: true });
    const host = real.forStep('s', 'p');
    const dir = await makeTmp('flexnode-exec-');
    const marker = join(dir, 'ran');
    expect(await host.exec.run('touch', [marker], { describe: 'mark' })).to.deep.equal({ exitCode: 0, stdout: '', stderr: '' });
    expect(
      await fs.access(marker).then(
        () => true,
        () => false,
      ),
    ).to.equal(false);
    expect(plan).to.deep.equal([{ step: 's', action: 'exec', target: `touch ${marker}`, detail: '(mark)' }]);
    expect((await host.exec.run('echo', ['hi'], { mutates: false })).stdout).to.equal('hi\n');
  });
});

describe('host/apt (apt-get and dpkg-query stubbed on PATH, a dpkg database of its own)', () => {
  let savedPath: string | undefined;
  let state: string;
  let database: string;
  /** A dpkg status file listing the packages named by the files in `state`, as apt-get would leave it. */
  const writeDatabase = async () => {
    const names = (await fs.readdir(state)).filter((n) => !n.startsWith('.'));
    await fs.writeFile(database, names.map((n) => `Package: ${n}\nStatus: install ok installed\nArchitecture: amd64\n`).join('\n'));
  };
  beforeEach(async () => {
    const bin = await makeTmp('flexnode-stubs-');
    state = await makeTmp('flexnode-dpkg-');
    database = join(await makeTmp('flexnode-dpkg-db-'), 'status');
    await fs.writeFile(
      join(bin, 'dpkg-query'),
      `#!/bin/sh\necho "$*" >> "${state}/.queries"\npkg=$(eval echo \\$$#)\nif [ -e "${state}/$pkg" ]; then printf 'install ok installed'; else echo "no packages found matching $pkg" >&2; exit 1; fi\n`,
      { mode: 0o755 },
    );
    // apt-get installs by creating state/<name> (and, like apt, the dependencies listed in DEPS) and rewriting the
    // database as dpkg would; `-s remove X` prints the Remv lines of X and of what depends on it; `remove` removes.
    await fs.writeFile(
      join(bin, 'apt-get'),
      `#!${process.execPath}
const fs = require('node:fs'), path = require('node:path');
const state = ${JSON.stringify(state)}, database = ${JSON.stringify(database)};
const deps = JSON.parse(process.env.DEPS || '{}');
const args = process.argv.slice(2);
fs.appendFileSync(path.join(state, '.log'), [process.env.DEBIAN_FRONTEND, ...args].join(' ') + '\\n');
const installed = () => fs.readdirSync(state).filter((n) => !n.startsWith('.'));
const names = args.filter((a) => !a.startsWith('-') && !['install', 'remove', 'purge'].includes(a));
const dependents = (name) => [name, ...installed().filter((p) => (deps[p] || []).includes(name)).flatMap(dependents)];
if (args.includes('-s')) {
  for (const p of new Set(names.flatMap(dependents))) console.log((args.includes('purge') ? 'Purg ' : 'Remv ') + p + ' [1.0]');
  process.exit(0);
}
const touched = args.includes('install') ? names.flatMap((n) => [n, ...(deps[n] || [])]) : names.flatMap(dependents);
for (const p of touched) args.includes('install') ? fs.writeFileSync(path.join(state, p), '') : fs.rmSync(path.join(state, p), { force: true });
fs.writeFileSync(database, installed().map((n) => 'Package: ' + n + '\\nStatus: install ok installed\\n').join('\\n'));
`,
      { mode: 0o755 },
    );
    savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${savedPath}`;
  });
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('installs only what is missing, journals each as a package, and revert removes only those', async () => {
    await fs.writeFile(join(state, 'iptables'), '');
    await writeDatabase();
    const { real } = await makeHost({ dpkgStatusFile: database });
    const host = real.forStep('containerd.apt', 'p');
    expect(await host.apt.isInstalled('iptables')).to.equal(true);
    expect(await host.apt.isInstalled('containerd')).to.equal(false);
    expect(await host.apt.install(['iptables', 'containerd', 'runc'])).to.equal(true);
    expect(host.changes.list()).to.deep.equal([
      { kind: 'package', name: 'containerd' },
      { kind: 'package', name: 'runc' },
    ]);
    expect(await host.apt.install(['containerd', 'runc'])).to.equal(false);
    const log = await fs.readFile(join(state, '.log'), 'utf8');
    expect(log).to.equal('noninteractive install -y --no-install-recommends containerd runc\n');
    await host.changes.revert();
    expect((await fs.readdir(state)).filter((n) => n !== '.queries')).to.have.members(['.log', 'iptables']);
    expect(await fs.readFile(join(state, '.log'), 'utf8'))
      .to.contain('purge -y runc')
      .and.contain('purge -y containerd')
      .and.not.contain('purge -y iptables');
    // every answer came from the database, none from a dpkg-query process
    expect(existsSync(join(state, '.queries'))).to.equal(false);
  });

  it('journals the dependencies apt pulled in, and revert removes them, never what a package it did not install needs', async () => {
    await fs.writeFile(join(state, 'iptables'), '');
    await writeDatabase();
    process.env.DEPS = JSON.stringify({ crun: ['libyajl2'], containerd: ['runc'], 'user-tool': ['libyajl2'] });
    try {
      const { real } = await makeHost({ dpkgStatusFile: database });
      const host = real.forStep('crun.packages', 'p');
      await host.apt.install(['containerd', 'crun']);
      expect(host.changes.list()).to.deep.equal([
        { kind: 'package', name: 'containerd' },
        { kind: 'package', name: 'crun' },
        { kind: 'package', name: 'libyajl2' },
        { kind: 'package', name: 'runc' },
      ]);
      // The operator installs something that needs libyajl2 too: it stays; the rest goes.
      await fs.writeFile(join(state, 'user-tool'), '');
      await writeDatabase();
      await host.changes.revert();
      expect((await fs.readdir(state)).filter((n) => !n.startsWith('.')).sort()).to.deep.equal(['iptables', 'libyajl2', 'user-tool']);
      expect(host.changes.list()).to.deep.equal([]);
      expect(await fs.readFile(join(state, '.log'), 'utf8')).to.not.contain('purge -y libyajl2');
    } finally {
      delete process.env.DEPS;
    }
  });

  it('without a dpkg database it asks dpkg-query', async () => {
    await fs.writeFile(join(state, 'iptables'), '');
    const { real } = await makeHost({ dpkgStatusFile: join(state, 'no-such-database') });
    const host = real.forStep('containerd.apt', 'p');
    expect(await host.apt.isInstalled('iptables')).to.equal(true);
    expect(await host.apt.isInstalled('containerd')).to.equal(false);
    expect(await fs.readFile(join(state, '.queries'), 'utf8')).to.equal('-W -f=${Status} iptables\n-W -f=${Status} containerd\n');
  });
});
