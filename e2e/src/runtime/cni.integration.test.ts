// Integration: the CNI steps on the real Host (packages/core) under a temp root, downloading from a local mirror
// that serves an upstream-layout tarball built from Debian's containernetworking-plugins (e2e/src/mirror); then
// the installed plugins run the installed conflist against a network namespace.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { AnyStepDefinition, FlexnodeConfig, StepInstance } from '@flexnode/sdk';
import { testConfig } from '@flexnode/sdk/testing';
import { cniBridgeConfig, cniPlugins } from '@flexnode/plugin-cni';
import { createOn, removeRoot, skipWith, stackUnavailable, startStack, STATE_DIR, tree, type Stack } from './real-host-stack.js';

const run = promisify(execFile);
// The plugin's own runner of a conflist through the real CNI plugins (built with plugin-cni).
const RUNNER = fileURLToPath(import.meta.resolve('@flexnode/plugin-cni/test-support/cni-chain-runner'));
const STEPS: AnyStepDefinition[] = [cniPlugins, cniBridgeConfig];

describe('plugin-cni on the real Host (temp root, local mirror of Debian-built artifacts)', function () {
  this.timeout(180_000);
  let stack: Stack | undefined;
  let config: FlexnodeConfig;
  const roots: string[] = [];

  before(async function () {
    const why = await stackUnavailable();
    if (why) skipWith(this, why);
    stack = await startStack();
    const cni = stack.manifest.get('cni-plugins');
    config = testConfig({
      cni: { version: cni.version, sha256: cni.sha256, podCIDR: '10.244.5.0/24' },
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
      expect((await inst.check()).status, step.id).to.equal('missing');
      await inst.install();
      expect((await inst.check()).status, step.id).to.equal('ok');
    }
    await run1.dispose();
    const installed = await tree(run1.root);
    for (const plugin of ['bridge', 'host-local', 'loopback', 'portmap']) expect(installed[`/opt/cni/bin/${plugin}`]).to.match(/^file 755 /);
    expect(installed['/etc/cni/net.d/99-bridge.conflist']).to.match(/^file 644 /);

    const fetched = requests();
    const run2 = await stack!.realRoot(run1.root);
    for (const [step, inst] of steps(run2)) {
      expect((await inst.check()).status, step.id).to.equal('ok');
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

  it('the installed plugins run the installed conflist: an address in the pod CIDR, and DEL cleans up', async function () {
    if (
      !(await run('unshare', ['--net', '--mount', '--fork', 'true']).then(
        () => true,
        () => false,
      ))
    ) {
      skipWith(this, '`unshare --net --mount` is not permitted here');
    }
    const r = await stack!.realRoot();
    roots.push(r.root);
    for (const step of STEPS) await createOn(step, r.host(step.id), config).install();
    await r.dispose();
    const { stdout } = await run('unshare', [
      '--net',
      '--mount',
      '--fork',
      process.execPath,
      RUNNER,
      join(r.root, 'etc/cni/net.d/99-bridge.conflist'),
      join(r.root, 'opt/cni/bin'),
    ]);
    const report = JSON.parse(stdout);
    expect(report.error).to.equal(undefined);
    expect(report.added.eth0[0].local).to.match(/^10\.244\.5\.\d+$/);
    expect(report.added.defaultRoutes[0].gateway).to.equal('10.244.5.1');
    expect(report.deleted).to.deep.equal({ eth0: 0, leases: [], natRules: [] });
  });

  it('a corrupted plugins tarball fails before unpacking, naming the artifact and both checksums', async () => {
    const cni = stack!.manifest.get('cni-plugins');
    stack!.mirror.setFault(cni.mirrorPath, 'corrupt');
    try {
      const r = await stack!.realRoot();
      roots.push(r.root);
      let error: (Error & { code?: string }) | undefined;
      await createOn(cniPlugins, r.host('cni.plugins'), config)
        .install()
        .catch((e: Error) => (error = e));
      await r.dispose();
      expect(error?.code).to.equal('CHECKSUM_MISMATCH');
      expect(error!.message).to.contain(`cni-plugins ${cni.version} (`).and.contain(cni.sha256);
      const actual = /got ([0-9a-f]{64})/.exec(error!.message)?.[1];
      expect(actual).to.be.a('string').and.not.equal(cni.sha256);
      expect(await tree(r.root)).to.deep.equal({});
      expect(await readdir(join(r.root, STATE_DIR, 'staging')).catch(() => [])).to.deep.equal([]);
    } finally {
      stack!.mirror.setFault(cni.mirrorPath, undefined);
    }
  });
});
