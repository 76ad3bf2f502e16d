// Real-component test: the conflist the step writes, executed by Debian's real CNI plugins against a network
// namespace, inside `unshare --net --mount` so the host's network, /run and /var/lib/cni are untouched.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createStep, MemoryHost, testConfig } from '@flexnode/sdk/testing';
import { cniBridgeConfig } from './steps.js';
import { REQUIRED_PLUGINS } from './cni-plugins.js';
import { skipWith } from './fixtures.test.helpers.js';

const run = promisify(execFile);
const RUNNER = fileURLToPath(new URL('./cni-chain.test.runner.js', import.meta.url));
type Json = Record<string, any>;

async function which(name: string): Promise<string | undefined> {
  for (const dir of [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin']) {
    if (
      await access(`${dir}/${name}`).then(
        () => true,
        () => false,
      )
    )
      return `${dir}/${name}`;
  }
  return undefined;
}

describe('cni.bridge-config on the real CNI plugins', function () {
  const cniPath = process.env['FLEXNODE_TEST_CNI_PATH'] ?? '/usr/lib/cni';
  let dir: string;
  let report: Json;

  before(async function () {
    if (process.getuid?.() !== 0) skipWith(this, 'needs root for network namespaces');
    for (const tool of ['unshare', 'ip', 'nsenter', 'iptables-save']) {
      if (!(await which(tool))) skipWith(this, `${tool} is not installed`);
    }
    for (const plugin of REQUIRED_PLUGINS) {
      if (
        !(await access(join(cniPath, plugin)).then(
          () => true,
          () => false,
        ))
      ) {
        skipWith(this, `${cniPath}/${plugin} is missing (apt-get install -y containernetworking-plugins)`);
      }
    }
    const probe = await run('unshare', ['--net', '--mount', '--fork', 'true']).then(
      () => true,
      () => false,
    );
    if (!probe) skipWith(this, '`unshare --net --mount` is not permitted here');

    // The conflist exactly as the step writes it.
    const host = new MemoryHost();
    await createStep(cniBridgeConfig, host, { config: testConfig({ cni: { podCIDR: '10.244.3.0/24' } }) }).install();
    dir = await mkdtemp(join(tmpdir(), 'flexnode-cni-'));
    const conflist = join(dir, '99-bridge.conflist');
    await writeFile(conflist, host.files.get('/etc/cni/net.d/99-bridge.conflist')!.content);
    const { stdout } = await run('unshare', ['--net', '--mount', '--fork', process.execPath, RUNNER, conflist, cniPath], {
      timeout: 60_000,
    });
    report = JSON.parse(stdout) as Json;
    expect(report['error'], 'the plugin chain failed').to.equal(undefined);
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('ADD gives the namespace an eth0 address inside the pod CIDR, a default route via cni0, and a lease', () => {
    const added = report['added'];
    expect(added.lo).to.equal('UNKNOWN'); // lo is up (loopback's operstate reads UNKNOWN)
    const addr = added.eth0.find((a: Json) => a.family === 'inet');
    expect(addr, JSON.stringify(added)).to.not.equal(undefined);
    expect(addr.local).to.match(/^10\.244\.3\.\d+$/);
    expect(addr.prefixlen).to.equal(24);
    expect(added.bridge.map((a: Json) => a.local)).to.include('10.244.3.1');
    expect(added.defaultRoutes).to.have.length(1);
    expect(added.defaultRoutes[0].gateway).to.equal('10.244.3.1');
    expect(added.leases).to.deep.equal([addr.local]);
    // ipMasq and portmap installed their rules for this container.
    expect(added.natRules.some((l: string) => l.endsWith('-j MASQUERADE'))).to.equal(true, 'no ipMasq rule');
    expect(added.natRules.some((l: string) => l.includes(`--dport 18080 -j DNAT --to-destination ${addr.local}:80`))).to.equal(true, 'no portmap DNAT');
  });

  it('DEL removes the interface, the host-local lease and the iptables rules', () => {
    expect(report['deleted']).to.deep.equal({ eth0: 0, leases: [], natRules: [] });
  });
});
