// The release tarball: built by scripts/build-release.mjs, it runs on its embedded Node with no system Node,
// carries only production dependencies, the unit and the install scripts; its unit passes systemd-analyze.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { run } from '../mirror/run.js';
import { GUARDED_ANSWER, runJitlessProbe } from './jitless-probe.js';
import { nativeRelease, type Release } from './release.js';

describe('release tarball (scripts/build-release.mjs, native arch)', function () {
  this.timeout(300_000);
  let release: Release;
  let dir: string;
  let top: string;

  before(async function () {
    this.timeout(300_000);
    release = await nativeRelease();
    console.log(`    built in ${(release.buildMs / 1000).toFixed(1)} s`);
    dir = await mkdtemp(join(tmpdir(), 'flexnode-release-x-'));
    await run(['tar', '-xzf', release.tarball, '-C', dir]);
    top = join(dir, `flexnode-${release.version}-linux-${release.arch}`);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('has a sha256 file in sha256sum format that matches', async () => {
    const sum = createHash('sha256')
      .update(await readFile(release.tarball))
      .digest('hex');
    expect(await readFile(`${release.tarball}.sha256`, 'utf8')).to.equal(`${sum}  flexnode-${release.version}-linux-${release.arch}.tar.gz\n`);
  });

  it('comes with the @flexnode/sdk package (and its sha256), as npm would publish it, without compiled tests', async () => {
    const sdk = join(release.dir, `flexnode-sdk-${release.version}.tgz`);
    const sum = createHash('sha256')
      .update(await readFile(sdk))
      .digest('hex');
    expect(await readFile(`${sdk}.sha256`, 'utf8')).to.equal(`${sum}  flexnode-sdk-${release.version}.tgz\n`);
    const listing = execFileSync('tar', ['-tzf', sdk], { encoding: 'utf8' }).trim().split('\n');
    expect(listing).to.include.members([
      'package/package.json',
      'package/dist/index.js',
      'package/dist/testing/index.js',
      'package/dist/testing/host-contract.js',
    ]);
    expect(
      listing.filter((f) => /\.test\./.test(f)),
      'compiled tests',
    ).to.deep.equal([]);
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', sdk, 'package/package.json'], { encoding: 'utf8' }));
    expect(manifest).to.include({ name: '@flexnode/sdk', version: release.version });
  });

  it('bin/flexnode --version runs on the embedded node (the pinned releaseNode, whatever the build machine runs), with no node on PATH', () => {
    // A PATH with the wrapper's one tool and nothing else: no node to fall back on.
    const path = join(dir, 'path');
    mkdirSync(path);
    for (const tool of ['readlink']) symlinkSync(execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(path, tool));
    const r = spawnSync(join(top, 'bin/flexnode'), ['--version'], { env: { PATH: path }, encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout.trim()).to.equal(`@flexnode/cli/${release.version} linux-${release.arch} node-${release.nodeVersion}`);
    // Upstream's name for the same CLI.
    const upstream = spawnSync(join(top, 'bin/aks-flex-node'), ['--version'], { env: { PATH: path }, encoding: 'utf8' });
    expect(upstream.status, upstream.stderr).to.equal(0);
    expect(upstream.stdout.trim()).to.equal(r.stdout.trim());
    const steps = spawnSync(join(top, 'bin/flexnode'), ['steps', '--json'], { env: { PATH: '/usr/bin:/bin', HOME: dir }, encoding: 'utf8' });
    expect(steps.status, steps.stderr).to.equal(0);
    expect(JSON.parse(steps.stdout).steps.map((s: { id: string }) => s.id)).to.include('containerd.service');
  });

  it("the kubelet's token command is the release's stable bin/flexnode (<prefix>/current once current), not its version directory", () => {
    // What plugin-arc would write into the kubelet's kubeconfig, asked inside a run of bin/flexnode (a preload
    // module, so the wrapper's environment is the one a real run has).
    const execCommand = pathToFileURL(join(top, 'lib/node_modules/@flexnode/plugin-arc/dist/exec-command.js')).href;
    const preload = `data:text/javascript,process.stdout.write(JSON.stringify((await(import('${execCommand}'))).tokenExecCommand('r')));process.exit(0)`;
    const tokenCommand = (wrapper: string, env: Record<string, string> = {}) => {
      const r = spawnSync(wrapper, ['--version'], { env: { PATH: '/usr/bin:/bin', NODE_OPTIONS: `--import=${preload}`, ...env }, encoding: 'utf8' });
      expect(r.status, r.stderr).to.equal(0);
      return JSON.parse(r.stdout) as { command: string; args: string[] };
    };
    const own = join(top, 'bin/flexnode');
    // Unpacked anywhere: its own path, as it is.
    expect(tokenCommand(own)).to.deep.equal({ command: own, args: ['token', '--resource', 'r'] });
    // install.sh's layout: <prefix>/current -> <version>, /usr/local/bin/flexnode -> <prefix>/current/bin/flexnode.
    const current = join(dir, 'current');
    symlinkSync(basename(top), current);
    const bin = join(dir, 'usr-local-bin');
    mkdirSync(bin);
    symlinkSync(join(current, 'bin/flexnode'), join(bin, 'flexnode'));
    try {
      for (const wrapper of [join(bin, 'flexnode'), own, join(top, 'bin/aks-flex-node')])
        expect(tokenCommand(wrapper).command, wrapper).to.equal(join(current, 'bin/flexnode'));
      expect(tokenCommand(own, { FLEXNODE_COMMAND: '/usr/local/bin/flexnode' }).command, 'an explicit one wins').to.equal('/usr/local/bin/flexnode');
      // Another release is current: this one names itself.
      unlinkSync(current);
      symlinkSync('elsewhere', current);
      expect(tokenCommand(own).command).to.equal(own);
    } finally {
      unlinkSync(current);
    }
  });

  it("the agent's --jitless guard holds on the embedded node: undici's globals absent, the process alive", () => {
    // The unit runs the agent --jitless; each Node major exposes undici's globals its own way (Node 22's are lazy
    // data properties that a descriptor read loads, ending the process), so the shipped guard is run on the
    // shipped runtime.
    const guard = join(top, 'lib/node_modules/@flexnode/core/dist/agent/jitless.js');
    const r = runJitlessProbe(join(top, 'node/bin/node'), guard, { args: ['--jitless'] });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.lines).to.deep.equal(GUARDED_ANSWER);
  });

  it('ships the unit, the scripts and production dependencies only', async () => {
    for (const f of [
      'share/flexnode-agent.service',
      'install.sh',
      'uninstall.sh',
      'VERSION',
      'node/bin/node',
      'lib/node_modules/@flexnode/cli/assets/flexnode-agent.service',
    ]) {
      expect(existsSync(join(top, f)), f).to.equal(true);
    }
    for (const dev of ['typescript', 'mocha', 'chai', 'turbo', '@types/node']) expect(existsSync(join(top, 'lib/node_modules', dev)), dev).to.equal(false);
    expect(existsSync(join(top, 'lib/node_modules/@flexnode/core/dist/agent/agent.test.js')), 'compiled tests').to.equal(false);
  });

  it('its unit, as `flexnode agent install-service` writes it, passes systemd-analyze verify', async function () {
    if (spawnSync('systemd-analyze', ['--version']).status !== 0) {
      console.log('SKIP: systemd-analyze is not installed');
      this.skip();
    }
    const root = join(dir, 'root');
    const bin = join(top, 'bin/flexnode');
    const r = spawnSync(bin, ['agent', 'install-service', '--root', root, '--bin', bin, '--json'], {
      env: { PATH: '/usr/bin:/bin', HOME: dir },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).to.equal(0);
    const unit = join(root, 'etc/systemd/system/flexnode-agent.service');
    expect(JSON.parse(r.stdout)).to.include({ path: unit, reloaded: false });
    const text = await readFile(unit, 'utf8');
    expect(text).to.include(`ExecStart=${bin} agent\n`).and.include('Type=notify').and.include('Environment=FLEXNODE_DATA_DIR=/var/lib/flexnode-plugins');
    expect(text).to.match(/^Alias=aks-flex-node-agent\.service$/m);
    const verify = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    expect(verify.status, verify.stderr).to.equal(0);
    expect(verify.stderr.split('\n').filter((l) => l.includes('flexnode-agent'))).to.deep.equal([]);
    // And a broken one fails, so the check means something.
    await writeFile(
      join(dir, 'broken.service'),
      text.replace('Type=notify', 'Type=notify\nNotAKey=1').replace(`ExecStart=${bin}`, 'ExecStart=/nonexistent/flexnode'),
    );
    expect(spawnSync('systemd-analyze', ['verify', join(dir, 'broken.service')]).status).to.not.equal(0);
  });
});
