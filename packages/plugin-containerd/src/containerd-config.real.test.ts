// Real-component test: the config.toml the step writes is accepted by the real containerd (Debian's 1.6 here).
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'smol-toml';
import { createStep, MemoryHost, testConfig } from '@flexnode/sdk/testing';
import { CRI_PLUGIN } from './containerd-config.js';
import { containerdConfig } from './steps.js';
import { findExecutable, skipWith } from './fixtures.test.helpers.js';

const run = promisify(execFile);
type Doc = Record<string, any>;

describe('containerd.config on the real containerd', function () {
  let containerd: string | undefined;
  let dir: string;
  let configFile: string;
  const pause = 'mcr.microsoft.com/oss/kubernetes/pause:3.9';

  before(async function () {
    containerd = await findExecutable('containerd');
    if (!containerd) skipWith(this, 'containerd is not installed (apt-get install -y containerd)');
    if (process.getuid?.() !== 0) skipWith(this, 'needs root to run containerd');
    dir = await mkdtemp(join(tmpdir(), 'flexnode-containerd-'));
    // Render through the step exactly as it writes /etc/containerd/config.toml ...
    const host = new MemoryHost();
    const config = testConfig({ containerd: { pauseImage: pause, metricsAddress: '127.0.0.1:0' } });
    await createStep(containerdConfig, host, { config }).install();
    const doc = parse(host.files.get('/etc/containerd/config.toml')!.content.toString()) as Doc;
    // ... then keep every path of the daemon inside the temp dir, so the host's containerd is untouched.
    doc['root'] = join(dir, 'root');
    doc['state'] = join(dir, 'state');
    doc['imports'] = [join(dir, 'conf.d', '*.toml')];
    doc['grpc'] = { address: join(dir, 'containerd.sock') };
    doc['ttrpc'] = { address: join(dir, 'containerd.sock.ttrpc') };
    doc['plugins']['io.containerd.internal.v1.opt'] = { path: join(dir, 'opt') };
    configFile = join(dir, 'config.toml');
    await writeFile(configFile, stringify(doc));
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('`containerd config dump` accepts it and shows SystemdCgroup = true and the sandbox image', async () => {
    const { stdout } = await run(containerd!, ['--config', configFile, 'config', 'dump']);
    const dump = parse(stdout) as Doc;
    const cri = dump['plugins'][CRI_PLUGIN];
    expect(cri.sandbox_image).to.equal(pause);
    expect(cri.containerd.runtimes.runc.runtime_type).to.equal('io.containerd.runc.v2');
    expect(cri.containerd.runtimes.runc.options.SystemdCgroup).to.equal(true);
    expect(cri.cni.bin_dir).to.equal('/opt/cni/bin');
    expect(cri.cni.conf_dir).to.equal('/etc/cni/net.d');
    expect(cri.registry.config_path).to.equal('/etc/containerd/certs.d');
    expect(dump['metrics'].address).to.equal('127.0.0.1:0');
  });

  it('starts a real containerd with it, which answers `ctr version` on its socket', async function () {
    const ctr = await findExecutable('ctr');
    if (!ctr) skipWith(this, 'ctr is not installed');
    const socket = join(dir, 'containerd.sock');
    let daemon: ChildProcess | undefined;
    let log = '';
    try {
      daemon = spawn(containerd!, ['--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
      daemon.stderr!.on('data', (chunk) => (log += chunk));
      let answer: { stdout: string } | undefined;
      for (let i = 0; i < 50 && !answer; i++) {
        await new Promise((r) => setTimeout(r, 200));
        answer = await run(ctr!, ['--address', socket, 'version']).catch(() => undefined);
      }
      expect(answer, `containerd did not answer; its log:\n${log.slice(-3000)}`).to.not.equal(undefined);
      expect(answer!.stdout).to.match(/Server:\s+Version:/);
      expect(log).to.not.match(/level=(error|fatal).*failed to load plugin.*cri/i);
    } finally {
      // End only the daemon this test started, by its pid.
      if (daemon?.pid && daemon.exitCode === null) {
        const exited = new Promise((r) => daemon!.once('exit', r));
        process.kill(daemon.pid, 'SIGTERM');
        await exited;
      }
    }
  });
});
