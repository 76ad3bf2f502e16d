import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, Session, type PluginSource } from '@flexnode/core';
import { REPO, run, writePluginPackage, writeValidConfig } from './helpers.js';

/**
 * A stand-in for plugin-cni with its two steps and their contract (the real one downloads the CNI release):
 * `cni.plugins` (provides cni-plugins) puts the loopback binary in place, `cni.bridge-config` (provides cni)
 * writes the default bridge network.
 */
const BUNDLED_CNI = `const Host = Symbol.for('flexnode.host');
const file = (id, title, provides, after, path, content, mode) => ({
  id, title, provides, after, inject: [Host],
  create: (host) => ({
    check: async () => ((await host.files.readText(path)) === content ? { status: 'ok' } : { status: 'missing', reason: path + ' is absent' }),
    install: async () => {
      const dirs = [];
      for (let d = path.slice(0, path.lastIndexOf('/')); d && !(await host.files.stat(d)); d = d.slice(0, d.lastIndexOf('/'))) dirs.unshift(d);
      for (const d of dirs) await host.files.mkdir(d);
      await host.files.write(path, content, { mode });
    },
    uninstall: () => host.changes.revert(),
  }),
});
export default {
  name: '@test/bundled-cni', apiVersion: 1,
  steps: [
    file('cni.plugins', 'CNI plugins', ['cni-plugins'], [], '/opt/cni/bin/loopback', 'loopback\\n', 0o755),
    file('cni.bridge-config', 'default bridge network', ['cni'], ['cni.plugins'], '/etc/cni/net.d/99-bridge.conflist', '{"name":"flexnode-bridge"}\\n', 0o644),
  ],
};
`;

/**
 * Core's swap rule on a real Host under a scratch root: when a capability changes provider, `bootstrap` first
 * uninstalls the journaled steps of the provider that lost (with its code when it is still loaded, else by
 * reverting its journal), then installs the winner's. Runs the real @org/plugin-cilium steps.
 */
describe('plugins: bootstrap uninstalls the steps of the provider that lost a capability', function () {
  this.timeout(60_000);
  let dir: string;
  let root: string;
  let configPath: string;
  let bundled: PluginSource;
  const cilium: PluginSource = { name: '@org/plugin-cilium', version: '0.1.0', root: join(REPO, 'examples/plugin-cilium'), kind: 'user' };
  const BRIDGE = '/etc/cni/net.d/99-bridge.conflist';
  const at = (path: string) => join(root, path);
  const read = (path: string) =>
    readFile(at(path), 'utf8').then(
      (t) => t.trim(),
      () => undefined,
    );

  before(async function () {
    if ((await run('systemctl', ['--version'])).code !== 0) {
      console.log('    SKIP: systemctl is not installed (the Host enables units with systemctl --root)');
      this.skip();
    }
    dir = await mkdtemp(join(tmpdir(), 'flexnode-orphans-'));
    root = join(dir, 'root');
    bundled = {
      name: '@test/bundled-cni',
      version: '1.0.0',
      root: await writePluginPackage(join(dir, 'bundled-cni'), '@test/bundled-cni', BUNDLED_CNI),
      kind: 'bundled',
    };
    configPath = await writeValidConfig(join(dir, 'config.json'));
    // The machine as the kernel shows it: bpffs mounted by systemd already (so nothing is mounted for real),
    // a kernel Cilium supports, and rp_filter as systemd >= 245 sets it.
    await mkdir(at('proc/sys/kernel'), { recursive: true });
    await writeFile(at('proc/mounts'), 'sysfs /sys sysfs rw 0 0\nbpf /sys/fs/bpf bpf rw,nosuid,nodev,noexec,relatime,mode=700 0 0\n');
    await writeFile(at('proc/sys/kernel/osrelease'), '6.8.0-45-generic\n');
    for (const scope of ['all', 'default']) {
      await mkdir(at(`proc/sys/net/ipv4/conf/${scope}`), { recursive: true });
      await writeFile(at(`proc/sys/net/ipv4/conf/${scope}/rp_filter`), '2\n');
    }
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function bootstrap(sources: PluginSource[], plugins?: Record<string, string>) {
    const loaded = await loadConfig(configPath);
    if (plugins) loaded.config.plugins = plugins;
    const session = await Session.open({ command: 'bootstrap', config: loaded, root, sources });
    try {
      const report = await session.bootstrap();
      const failed = [...report.removed, ...report.results].filter((r) => r.outcome === 'failed');
      expect(failed, JSON.stringify(failed, null, 2)).to.deep.equal([]);
      return { removed: report.removed.map((r) => r.id).sort(), installed: report.results.filter((r) => r.outcome === 'installed').map((r) => r.id) };
    } finally {
      await session.close();
    }
  }

  // The journaled ones: cilium.kernel only checks, and the bridge config was gone (core had uninstalled
  // cni.bridge-config first) when cilium.no-bridge-config checked.
  const ciliumSteps = ['cilium.bpffs', 'cilium.sysctls'];
  const expectBundledNetwork = async () => {
    expect(await read(BRIDGE)).to.equal('{"name":"flexnode-bridge"}');
    expect(await read('/proc/sys/net/ipv4/conf/all/rp_filter')).to.equal('2');
    expect(await read('/proc/sys/net/ipv4/conf/default/rp_filter')).to.equal('2');
    expect(existsSync(at('/etc/systemd/system/flexnode-cilium-bpffs.service'))).to.equal(false);
    expect(existsSync(at('/etc/sysctl.d/99-zzz-flexnode-cilium.conf'))).to.equal(false);
  };
  const expectCilium = async () => {
    expect(existsSync(at(BRIDGE)), 'bridge config removed').to.equal(false);
    expect(await read('/opt/cni/bin/loopback'), 'loopback kept').to.equal('loopback');
    expect(await read('/proc/sys/net/ipv4/conf/all/rp_filter')).to.equal('0');
    expect(await read('/proc/sys/net/ipv4/conf/default/rp_filter')).to.equal('0');
    expect(await read('/etc/systemd/system/flexnode-cilium-bpffs.service')).to.contain('ConditionPathIsMountPoint=!/sys/fs/bpf');
    expect(await read('/etc/sysctl.d/99-zzz-flexnode-cilium.conf')).to.contain('net.ipv4.conf.all.rp_filter = 0');
  };

  it('bootstraps the bundled CNI', async () => {
    expect(await bootstrap([bundled])).to.deep.equal({ removed: [], installed: ['cni.plugins', 'cni.bridge-config'] });
    await expectBundledNetwork();
  });

  it('with the plugin installed: plan shows the bridge config going away; bootstrap removes it and prepares Cilium', async () => {
    const session = await Session.open({ command: 'plan', config: await loadConfig(configPath), root, sources: [bundled, cilium] });
    try {
      const plan = await session.plan();
      expect(plan.changes).to.deep.include({ step: 'cilium.no-bridge-config', action: 'remove', target: BRIDGE });
      // The bundled provider's journaled step is listed as undone first.
      expect(plan.changes.filter((c) => c.action === 'uninstall').map((c) => c.step)).to.deep.equal(['cni.bridge-config']);
    } finally {
      await session.close();
    }
    const run1 = await bootstrap([bundled, cilium]);
    expect(run1.removed).to.deep.equal(['cni.bridge-config']);
    expect(run1.installed).to.include.members(['cilium.bpffs', 'cilium.sysctls']);
    await expectCilium();
    expect(await bootstrap([bundled, cilium])).to.deep.equal({ removed: [], installed: [] });
  });

  it('wrote a boot unit that systemd accepts (systemd-analyze verify)', async function () {
    if ((await run('systemd-analyze', ['--version'])).code !== 0) {
      console.log('    SKIP: systemd-analyze is not installed');
      this.skip();
    }
    const verify = await run('systemd-analyze', ['verify', at('/etc/systemd/system/flexnode-cilium-bpffs.service')]);
    expect(verify.code, verify.stderr).to.equal(0);
    expect(verify.stderr).to.not.contain('flexnode-cilium-bpffs');
  });

  it('with the config choosing the bundled provider: the Cilium steps are uninstalled with their own code', async () => {
    const run2 = await bootstrap([bundled, cilium], { cni: '@test/bundled-cni' });
    expect(run2.removed).to.deep.equal(ciliumSteps);
    expect(run2.installed).to.deep.equal(['cni.bridge-config']);
    await expectBundledNetwork();
  });

  it('with the plugin uninstalled (its code gone): the Cilium steps are undone from the journal', async () => {
    await bootstrap([bundled, cilium]);
    await expectCilium();
    const run3 = await bootstrap([bundled]);
    expect(run3.removed).to.deep.equal(ciliumSteps);
    expect(run3.installed).to.deep.equal(['cni.bridge-config']);
    await expectBundledNetwork();
    const journal = JSON.parse(await readFile(at('/var/lib/flexnode/journal.json'), 'utf8'));
    expect(JSON.stringify(journal)).to.not.contain('cilium.');
  });
});
