// Real-component test: the unit file the step writes passes `systemd-analyze verify`.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createStep, MemoryHost, testConfig } from '@flexnode/sdk/testing';
import { containerdService } from './steps.js';
import { findExecutable, skipWith } from './fixtures.test.helpers.js';

const run = promisify(execFile);

describe('containerd.service unit under systemd-analyze verify', function () {
  let analyze: string | undefined;
  let dir: string;
  let unitText: string;

  before(async function () {
    analyze = await findExecutable('systemd-analyze');
    if (!analyze) skipWith(this, 'systemd-analyze is not installed');
    // verify fails when ExecStart's binary is missing: the unit points at /usr/bin/containerd.
    if (!(await findExecutable('containerd'))?.startsWith('/usr/bin/')) {
      skipWith(this, '/usr/bin/containerd is missing (apt-get install -y containerd provides it)');
    }
    const host = new MemoryHost({ systemd: false });
    await createStep(containerdService, host, { config: testConfig() }).install();
    unitText = host.files.get('/etc/systemd/system/containerd.service')!.content.toString();
    dir = await mkdtemp(join(tmpdir(), 'flexnode-unit-'));
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('passes systemd-analyze verify', async () => {
    const file = join(dir, 'containerd.service');
    await writeFile(file, unitText);
    const { stderr } = await run(analyze!, ['verify', file]);
    expect(stderr).to.not.match(/containerd\.service:/);
  });

  it('(control) the same verify fails when ExecStart names a missing binary', async () => {
    const file = join(dir, 'broken', 'containerd.service');
    await (await import('node:fs/promises')).mkdir(join(dir, 'broken'));
    await writeFile(file, unitText.replace('ExecStart=/usr/bin/containerd', 'ExecStart=/usr/bin/flexnode-missing-binary'));
    const error = await run(analyze!, ['verify', file]).then(
      () => undefined,
      (e: { stderr: string }) => e,
    );
    expect(error, 'verify accepted a missing binary').to.not.equal(undefined);
    expect(error!.stderr).to.contain('flexnode-missing-binary');
  });
});
