// Real-component test: kubelet.service, its drop-in and its 0600 environment file, rendered with hostile values
// the schema accepts (a proxy URL with %, $, quotes and a password; node labels at their limits), pass
// `systemd-analyze verify` (a unit that fails verification fails the test), and nothing a value holds becomes a
// line of its own.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { proxyEnvironment } from '@flexnode/sdk';
import { execStartOf, testConfig } from '@flexnode/sdk/testing';
import { kubePaths } from '../paths.js';
import { parseKubeVersion } from '../version.js';
import { kubeletArgs, kubeletDropIn, kubeletEnvironmentFile, kubeletUnit } from './unit.js';

const run = promisify(execFile);

describe('kubelet.service, drop-in and environment file under systemd-analyze verify', function () {
  this.timeout(60_000);
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'flexnode-kubelet-unit-'));
    // The machine's own units (sysinit.target, network-online.target...) that kubelet.service depends on.
    await mkdir(join(root, 'usr/lib/systemd'), { recursive: true });
    await cp('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  });
  after(async () => root && rm(root, { recursive: true, force: true }));

  it('verify accepts them with hostile proxy values; the drop-in keeps the flags as the step gave them', async () => {
    const config = testConfig({
      proxy: {
        https: 'http://us%24er:p"a$$w\'rd%%@proxy.example:3128',
        http: 'http://proxy.example:3128',
        noProxy: 'localhost,.svc,10.0.0.0/8, "x" %h $HOME;#',
      },
      paths: { kubernetes: { kubeletDir: '/var/lib/kube let', configDir: '/etc/kube%rnetes' } },
    });
    const paths = kubePaths(config);
    const args = kubeletArgs(paths, {
      nodeName: 'edge-1',
      labels: { team: 'a-b_c.d', 'example.com/zone': 'z1' },
      nodeIP: '192.0.2.10',
      runtimeUnit: 'containerd.service',
      version: parseKubeVersion('1.35.2')!,
    });
    const files: [string, string][] = [
      [paths.unit, kubeletUnit(paths, { unit: 'containerd.service' })],
      [paths.dropIn, kubeletDropIn(paths, args)],
      [paths.environmentFile, kubeletEnvironmentFile(proxyEnvironment(config.proxy))],
      [`${paths.binDir}/kubelet`, '#!/bin/sh\nexit 0\n'],
    ];
    for (const [path, text] of files) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text);
    }
    await chmod(join(root, paths.binDir, 'kubelet'), 0o755);
    const verify = await run('systemd-analyze', ['verify', '--man=no', `--root=${root}`, 'kubelet.service']).then(
      (r) => ({ code: 0, out: `${r.stdout}${r.stderr}` }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: `${e.stdout}${e.stderr}` }),
    );
    expect(verify, 'systemd-analyze verify').to.deep.equal({ code: 0, out: '' });
    expect(execStartOf(files[1]![1])).to.deep.equal([`${paths.binDir}/kubelet`, ...args]);
    // One setting per line: no value started a line of its own.
    const settings = files[1]![1].split('\n').filter((l) => l && !l.startsWith('#') && !l.startsWith('['));
    expect(settings.map((l) => l.split('=')[0])).to.deep.equal(['EnvironmentFile', 'ExecStart', 'ExecStart']);
    const env = files[2]![1].split('\n').filter((l) => l && !l.startsWith('#'));
    expect(env.map((l) => l.split('=')[0])).to.deep.equal(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy']);
  });

  it('(control) verify fails when the drop-in points at a missing kubelet', async () => {
    const config = testConfig();
    const paths = kubePaths(config);
    const broken = kubeletDropIn({ ...paths, binDir: '/usr/local/flexnode-missing' }, []);
    await mkdir(dirname(join(root, paths.dropIn)), { recursive: true });
    await writeFile(join(root, paths.dropIn), broken);
    const error = await run('systemd-analyze', ['verify', '--man=no', `--root=${root}`, 'kubelet.service']).then(
      () => undefined,
      (e: { stderr: string }) => e,
    );
    expect(error, 'verify accepted a missing binary').to.not.equal(undefined);
  });
});
