// Integration: the release steps on the real Host (packages/core) under a temp root, downloading from a local
// mirror that serves upstream-layout artifacts built from Debian's containerd and runc (e2e/src/mirror).
import { expect } from 'chai';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnyStepDefinition, FlexnodeConfig, StepInstance } from '@flexnode/sdk';
import { testConfig } from '@flexnode/sdk/testing';
import { containerdBinaries, containerdConfig, containerdService, runcBinary } from '@flexnode/plugin-containerd';
import { createOn, removeRoot, skipWith, stackUnavailable, startStack, STATE_DIR, tree, type Stack } from './real-host-stack.js';

const STEPS: AnyStepDefinition[] = [runcBinary, containerdBinaries, containerdConfig, containerdService];

describe('plugin-containerd on the real Host (temp root, local mirror of Debian-built artifacts)', function () {
  this.timeout(180_000);
  let stack: Stack | undefined;
  let config: FlexnodeConfig;
  const roots: string[] = [];

  before(async function () {
    const why = await stackUnavailable();
    if (why) skipWith(this, why);
    stack = await startStack();
    const runc = stack.manifest.get('runc');
    const containerd = stack.manifest.get('containerd');
    // Debian's versions are not in the pinned table: the config pins them, as a user with a mirror would.
    config = testConfig({
      runc: { version: runc.version, sha256: runc.sha256 },
      containerd: { version: containerd.version, sha256: containerd.sha256 },
      artifacts: { mirror: stack.mirror.url },
    });
  });

  after(async () => {
    await stack?.mirror.close();
    for (const root of roots) await removeRoot(root);
  });

  const requests = () => stack!.mirror.requests().reduce((n, r) => n + r.count, 0);

  it('installs, checks ok, re-installs without any change, and uninstall leaves no file behind', async () => {
    const run1 = await stack!.realRoot();
    roots.push(run1.root);
    const steps = (r: typeof run1): [AnyStepDefinition, StepInstance][] => STEPS.map((s) => [s, createOn(s, r.host(s.id), config)]);

    for (const [step, inst] of steps(run1)) {
      expect((await inst.check()).status, step.id).to.not.equal('ok');
      await inst.install();
      const after = await inst.check();
      expect(after.status, `${step.id}: ${JSON.stringify(after)}`).to.equal('ok');
    }
    await run1.dispose();
    const installed = await tree(run1.root);
    const runc = stack!.manifest.get('runc');
    expect(installed['/usr/bin/runc']).to.equal(`file 755 ${runc.sha256}`);
    for (const bin of ['containerd', 'containerd-shim-runc-v2', 'ctr']) expect(installed[`/usr/bin/${bin}`]).to.match(/^file 755 /);
    expect(installed['/etc/containerd/config.toml']).to.match(/^file 644 /);
    expect(installed['/etc/systemd/system/containerd.service']).to.match(/^file 644 /);
    expect(installed['/etc/systemd/system/multi-user.target.wants/containerd.service']).to.match(/^link -> .*containerd\.service$/);

    // A second run (fresh Host, journal from disk): every check ok, install changes nothing, downloads nothing.
    const fetched = requests();
    const run2 = await stack!.realRoot(run1.root);
    for (const [step, inst] of steps(run2)) {
      const result = await inst.check();
      expect(result.status, step.id).to.equal('ok');
      if (step.id === 'containerd.service') expect(result.status === 'ok' && result.detail).to.contain('no service manager');
      await inst.install();
    }
    await run2.dispose();
    expect(await tree(run1.root)).to.deep.equal(installed);
    expect(requests()).to.equal(fetched);

    const run3 = await stack!.realRoot(run1.root);
    for (const [, inst] of steps(run3).reverse()) await inst.uninstall();
    await run3.dispose();
    expect(await tree(run1.root)).to.deep.equal({});
  });

  it('a corrupted containerd tarball fails before unpacking, naming the artifact and both checksums', async () => {
    const containerd = stack!.manifest.get('containerd');
    stack!.mirror.setFault(containerd.mirrorPath, 'corrupt');
    try {
      const run = await stack!.realRoot();
      roots.push(run.root);
      const inst = createOn(containerdBinaries, run.host('containerd.binaries'), config);
      let error: (Error & { code?: string }) | undefined;
      await inst.install().catch((e: Error) => (error = e));
      await run.dispose();
      expect(error?.code).to.equal('CHECKSUM_MISMATCH');
      const message = error!.message;
      expect(message).to.contain(`containerd ${containerd.version} (`).and.contain(containerd.sha256);
      const actual = /got ([0-9a-f]{64})/.exec(message)?.[1];
      expect(actual).to.be.a('string').and.not.equal(containerd.sha256);
      // Nothing unpacked, nothing installed: only flexnode's state dir exists under the root.
      expect(await tree(run.root)).to.deep.equal({});
      const staging = await readdir(join(run.root, STATE_DIR, 'staging')).catch(() => []);
      expect(staging, 'staging directories').to.deep.equal([]);
    } finally {
      stack!.mirror.setFault(containerd.mirrorPath, undefined);
    }
  });
});
