// Real-component test: the config.toml crun.config writes is accepted by the real containerd (Debian's), which
// reads crun as the default CRI runtime, driven by the runc v2 shim.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'smol-toml';
import { createStep, MemoryHost, testConfig } from '@flexnode/sdk/testing';
import { crunConfig, Paths } from './plugin.js';

const run = promisify(execFile);

describe('crun.config on the real containerd', function () {
  let dir: string;

  before(async function () {
    const containerd = await run('sh', ['-c', 'command -v containerd']).then(
      (r) => r.stdout.trim(),
      () => '',
    );
    if (!containerd) {
      console.log('    SKIP: containerd is not installed (apt-get install -y containerd)');
      this.skip();
    }
    dir = await mkdtemp(join(tmpdir(), 'flexnode-crun-'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('`containerd config dump` reads crun as the default runtime, through the runc v2 shim, with systemd cgroups', async () => {
    const host = new MemoryHost();
    await createStep(crunConfig, host, { config: testConfig() }).install();
    const file = join(dir, 'config.toml');
    await writeFile(file, host.files.get(Paths.config)!.content);
    const { stdout } = await run('containerd', ['--config', file, 'config', 'dump']);
    const cri = (parse(stdout) as Record<string, any>)['plugins']['io.containerd.grpc.v1.cri'];
    expect(cri.containerd.default_runtime_name).to.equal('crun');
    expect(cri.containerd.runtimes.crun.runtime_type).to.equal('io.containerd.runc.v2');
    expect(cri.containerd.runtimes.crun.options).to.deep.include({ BinaryName: '/usr/bin/crun', SystemdCgroup: true });
    expect(cri.restrict_oom_score_adj).to.equal(false);
  });

  it('the runtime it names is crun, when the crun package is installed here', async function () {
    if (
      !(await access(Paths.crun).then(
        () => true,
        () => false,
      ))
    ) {
      console.log('    SKIP: crun is not installed here (apt-get install -y crun)');
      this.skip();
    }
    const { stdout } = await run(Paths.crun, ['--version']);
    expect(stdout).to.match(/^crun version \d/);
  });
});
