import { expect } from 'chai';
import { API_VERSION, Cni, instantiate, isFlexnodeError, ServiceProxy, Tokens, type ServiceProxyService } from '@flexnode/sdk';
import { createStep, MemoryHost, runStepCycle, testConfig } from '@flexnode/sdk/testing';
import plugin, { ciliumBpffs, ciliumKernel, ciliumNoBridgeConfig, ciliumSysctls } from './plugin.js';
import { bpffsUnit } from './bpffs.js';
import { sysctlFile } from './sysctls.js';
import { BPF_MOUNT, BRIDGE, machine } from './test-machine.test.helpers.js';

const steps = [ciliumKernel, ciliumBpffs, ciliumSysctls, ciliumNoBridgeConfig];
const config = testConfig();
const opsOf = (ops: { op: string; target: string }[]) => ops.map((o) => `${o.op} ${o.target}`.trim());

describe('@org/plugin-cilium', () => {
  it("is a plugin of the current API whose every step provides cni, behind plugin-cni's binaries", () => {
    expect(plugin.name).to.equal('@org/plugin-cilium');
    expect(plugin.apiVersion).to.equal(API_VERSION);
    expect(plugin.steps.map((s) => s.id)).to.deep.equal(['cilium.kernel', 'cilium.bpffs', 'cilium.sysctls', 'cilium.no-bridge-config']);
    // Every step provides cni: when another plugin is chosen for cni, none of them runs.
    for (const step of plugin.steps)
      expect(step.provides)
        .to.deep.equal([Cni])
        .and.deep.equal([Symbol.for('flexnode.capability.cni')]);
    expect(ciliumNoBridgeConfig.after).to.include('cni-plugins');
    for (const step of plugin.steps)
      expect((step.inject as Record<string, symbol>).host)
        .to.equal(Symbol.for('flexnode.host'))
        .and.equal(Tokens.Host);
    // It takes over the cni capability's service too: containerd looks for Cilium's CNI where the agent puts it.
    const service = plugin.services?.find((s) => s.capability === Cni);
    expect(instantiate(service!, () => config)).to.deep.equal({ binDir: '/opt/cni/bin', confDir: '/etc/cni/net.d', usesNodePodCIDR: false });
  });

  it("provides service-proxy: Cilium replaces kube-proxy, so the node gets no kube-proxy and no label for AKS's", () => {
    const service = plugin.services?.find((s) => s.capability === ServiceProxy);
    expect(service?.capability).to.equal(Symbol.for('flexnode.capability.service-proxy'));
    const proxy = instantiate(service!, () => config) as ServiceProxyService;
    for (const cluster of [{ networkPlugin: 'kubenet', nodeResourceGroup: 'MC_rg_c_westus' }, { networkPlugin: 'none' }, {}]) {
      expect(proxy.plan(cluster)).to.deep.equal({ implementedBy: "Cilium's kube-proxy replacement (the cilium agent running on this node)", nodeLabels: {} });
    }
  });

  it('prepares a stock node and uninstall restores it exactly (check, install, idempotent install, uninstall)', async () => {
    const host = machine({ bridgeConfig: true });
    const report = await runStepCycle(steps, { host, config });
    expect(report.initial['cilium.kernel']!.status).to.equal('ok');
    expect(report.initial['cilium.bpffs']).to.deep.equal({
      status: 'missing',
      reason: 'bpffs is not mounted at /sys/fs/bpf and flexnode-cilium-bpffs.service is absent',
    });
    expect(report.initial['cilium.sysctls']!.status).to.equal('missing');
    expect(report.initial['cilium.no-bridge-config']!.status).to.equal('missing');
    const ops = opsOf(report.installOps);
    expect(ops).to.include.members([
      'exec mount -t bpf bpffs /sys/fs/bpf',
      'write /etc/systemd/system/flexnode-cilium-bpffs.service',
      'enable flexnode-cilium-bpffs.service',
      'write /etc/sysctl.d/99-zzz-flexnode-cilium.conf',
      'sysctl net.ipv4.conf.all.rp_filter=0',
      'sysctl net.ipv4.conf.default.rp_filter=0',
      `remove ${BRIDGE}`,
    ]);
    expect(ops.indexOf('exec mount -t bpf bpffs /sys/fs/bpf')).to.be.lessThan(ops.indexOf('enable flexnode-cilium-bpffs.service'));
    expect(report.installed.files['/etc/systemd/system/flexnode-cilium-bpffs.service']).to.include({ mode: 0o644 });
    expect(report.installed.files[BRIDGE]).to.equal(undefined);
    expect(report.installed.sysctls).to.include({ 'net.ipv4.conf.all.rp_filter': '0', 'net.ipv4.conf.default.rp_filter': '0' });
    // After uninstall (asserted by the harness: the machine is as before), bpffs is unmounted again.
    expect(host.files.get('/proc/mounts')!.content.toString()).to.not.include(BPF_MOUNT);
    expect(host.files.get(BRIDGE)).to.not.equal(undefined);
    expect(opsOf(host.ops)).to.include('exec umount /sys/fs/bpf');
  });

  it('neither mounts nor unmounts a bpffs that systemd mounted already; it only adds the boot unit', async () => {
    const host = machine({ bpffsMounted: true });
    const report = await runStepCycle(ciliumBpffs, { host, config });
    expect(report.initial['cilium.bpffs']).to.deep.equal({
      status: 'missing',
      reason: '/etc/systemd/system/flexnode-cilium-bpffs.service is absent: it mounts bpffs at boot where systemd does not',
    });
    expect(opsOf(host.ops).filter((o) => o.startsWith('exec'))).to.deep.equal([]);
    expect(host.files.get('/proc/mounts')!.content.toString()).to.include(BPF_MOUNT);
  });

  it('mounts bpffs at boot early, only where nothing mounted it (systemd refuses a sys-fs-bpf.mount unit)', async () => {
    const unit = bpffsUnit().split('\n');
    for (const line of [
      'DefaultDependencies=no',
      'Before=local-fs.target',
      'ConditionPathIsMountPoint=!/sys/fs/bpf',
      'Type=oneshot',
      'ExecStart=/bin/mount -t bpf -o nosuid,nodev,noexec,mode=700 bpffs /sys/fs/bpf',
      'WantedBy=local-fs.target',
    ]) {
      expect(unit).to.include(line);
    }
  });

  it('reports drift: bpffs unmounted, unit disabled, rp_filter turned back on', async () => {
    const host = machine();
    const bpffs = createStep(ciliumBpffs, host, { config });
    const sysctls = createStep(ciliumSysctls, host, { config });
    await bpffs.install();
    await sysctls.install();
    expect((await bpffs.check()).status).to.equal('ok');
    expect((await sysctls.check()).status).to.equal('ok');

    host.files.get('/proc/mounts')!.content = Buffer.from(host.files.get('/proc/mounts')!.content.toString().replace(BPF_MOUNT, ''));
    expect(await bpffs.check()).to.deep.equal({ status: 'drifted', reason: 'bpffs is not mounted at /sys/fs/bpf' });
    await bpffs.install();
    expect((await bpffs.check()).status).to.equal('ok');
    host.units.get('flexnode-cilium-bpffs.service')!.enabled = false;
    expect(await bpffs.check()).to.deep.equal({ status: 'drifted', reason: 'flexnode-cilium-bpffs.service is not enabled' });

    host.sysctls.set('net.ipv4.conf.all.rp_filter', '1');
    expect(await sysctls.check()).to.deep.equal({ status: 'drifted', reason: 'net.ipv4.conf.all.rp_filter is 1, Cilium needs 0' });
    await sysctls.install();
    expect((await sysctls.check()).status).to.equal('ok');
  });

  it('persists rp_filter for the next boot, with the lines Cilium itself writes for its devices', () => {
    const lines = sysctlFile().split('\n');
    expect(lines).to.include.members([
      'net.ipv4.conf.all.rp_filter = 0',
      'net.ipv4.conf.default.rp_filter = 0',
      'net.ipv4.conf.lxc*.rp_filter = 0',
      'net.ipv4.conf.cilium_*.rp_filter = 0',
    ]);
  });

  it('removes the bridge config from paths.cni.confDir and leaves the CNI binaries alone', async () => {
    const custom = testConfig({ paths: { cni: { confDir: '/etc/cni/custom.d' } } });
    const host = machine();
    host.seedFile('/etc/cni/custom.d/99-bridge.conflist', '{}\n').seedFile('/opt/cni/bin/loopback', 'ELF', 0o755);
    const report = await runStepCycle(ciliumNoBridgeConfig, { host, config: custom });
    expect(opsOf(report.installOps)).to.deep.equal(['remove /etc/cni/custom.d/99-bridge.conflist']);
    expect(report.installed.files['/opt/cni/bin/loopback']).to.include({ mode: 0o755 });
    const absent = await createStep(ciliumNoBridgeConfig, machine(), { config }).check();
    expect(absent.status).to.equal('ok');
  });

  it('plans without changing anything in a dry run', async () => {
    const host = machine({ bridgeConfig: true });
    const dry = new MemoryHost({ dryRun: true });
    for (const [path, file] of host.files) dry.files.set(path, file);
    for (const [key, value] of host.sysctls) dry.sysctls.set(key, value);
    for (const [command, handler] of host.execHandlers) dry.onExec(command, handler);
    const before = dry.snapshot();
    for (const step of steps) {
      const instance = createStep(step, dry, { config });
      if ((await instance.check()).status !== 'ok') await instance.install();
    }
    expect(opsOf(dry.ops)).to.include.members(['exec mount -t bpf bpffs /sys/fs/bpf', `remove ${BRIDGE}`, 'sysctl net.ipv4.conf.all.rp_filter=0']);
    expect(dry.snapshot()).to.deep.equal(before);
  });
});

describe('cilium.kernel', () => {
  const checkOn = (host: MemoryHost, cfg = config) => createStep(ciliumKernel, host, { config: cfg }).check();

  it('accepts a recent kernel whose config has every option, as y or m', async () => {
    expect(await checkOn(machine())).to.deep.equal({
      status: 'ok',
      detail: 'kernel 6.8.0-45-generic (>= 5.10), 12 required options set in /boot/config-6.8.0-45-generic',
    });
    expect((await checkOn(machine({ kconfig: 'proc' }))).status).to.equal('ok');
  });

  it('fails with a clear message on a kernel older than Cilium supports, and install refuses', async () => {
    const host = machine({ release: '4.15.0-213-generic' });
    expect(await checkOn(host)).to.deep.equal({ status: 'missing', reason: 'kernel 4.15.0-213-generic is older than 5.10, the oldest Cilium supports' });
    const error = await createStep(ciliumKernel, host, { config })
      .install()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isFlexnodeError(error)).to.equal(true);
    expect(error).to.have.property('code', 'CILIUM_KERNEL_UNSUPPORTED');
    expect((error as Error).message).to.equal('@org/plugin-cilium: kernel 4.15.0-213-generic is older than 5.10, the oldest Cilium supports');
    expect((error as { hint: string }).hint).to.contain('system_requirements');
    expect(host.ops).to.deep.equal([]);
  });

  it('names the options the kernel was built without (from /proc/config.gz)', async () => {
    const host = machine({ kconfig: 'proc', unset: ['CONFIG_BPF_JIT', 'CONFIG_NET_SCH_INGRESS'] });
    expect(await checkOn(host)).to.deep.equal({
      status: 'missing',
      reason: 'kernel 6.8.0-45-generic is built without CONFIG_BPF_JIT, CONFIG_NET_SCH_INGRESS (/proc/config.gz); Cilium needs each as y or m',
    });
  });

  it('says when the options cannot be verified, and falls back to uname -r for the release', async () => {
    const host = machine({ kconfig: 'none' });
    host.files.delete('/proc/sys/kernel/osrelease');
    host.onExec('uname', (args) => ({ exitCode: 0, stdout: args[0] === '-r' ? '6.1.0-18-amd64\n' : '', stderr: '' }));
    const result = await checkOn(host);
    expect(result).to.deep.equal({
      status: 'ok',
      detail: 'kernel 6.1.0-18-amd64 (>= 5.10); no /boot/config-6.1.0-18-amd64 or /proc/config.gz, so kernel options were not verified',
    });
    expect(host.ops).to.deep.equal([]); // uname ran read-only
  });

  it("accepts RHEL 8's 4.18 kernel, as Cilium documents, and honours pluginConfig.minKernelVersion", async () => {
    expect((await checkOn(machine({ release: '4.18.0-553.el8_10.x86_64' }))).status).to.equal('ok');
    const strict = testConfig({ pluginConfig: { '@org/plugin-cilium': { minKernelVersion: '6.10' } } });
    expect(await checkOn(machine(), strict)).to.deep.equal({
      status: 'missing',
      reason: 'kernel 6.8.0-45-generic is older than 6.10, the oldest Cilium supports',
    });
    const bad = testConfig({ pluginConfig: { '@org/plugin-cilium': { minKernelVersion: 'latest' } } });
    const error = await checkOn(machine(), bad).catch((e: Error) => e);
    expect((error as Error).message).to.match(/pluginConfig\["@org\/plugin-cilium"\]\.minKernelVersion must be a version/);
  });
});
