import { MemoryHost, runStepCycle, testConfig } from '@flexnode/sdk/testing';
import { expect } from 'chai';
import { kubeKernelModules, kubePackages, kubeSwap, kubeSysctl } from '../steps.js';
import { MODULES_FILE } from './kernel-modules.js';
import { commentOutSwap, FSTAB, FSTAB_MARK, fstabSwapLines, parseProcSwaps, PROC_SWAPS } from './swap.js';
import { KERNEL_DEFAULTS_SYSCTLS, renderSysctlFile, SYSCTL_FILE } from './sysctl.js';

const FSTAB_TEXT = `# /etc/fstab
UUID=abcd / ext4 errors=remount-ro 0 1
/swap.img none swap sw 0 0
/dev/sdb2 none swap defaults,noauto 0 0
# /old-swap none swap sw 0 0
`;

const swapsText = (devices: string[]) =>
  `Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n${devices.map((d) => `${d.replace(/ /g, '\\040')}\tfile\t\t1048572\t\t0\t\t-2`).join('\n')}${devices.length ? '\n' : ''}`;

describe('plugin-kube OS steps (in-memory host)', () => {
  it('sets the sysctls and modules, is idempotent, and uninstall restores the previous values', async () => {
    const host = new MemoryHost();
    host.sysctls.set('net.ipv4.ip_forward', '0');
    host.sysctls.set('net.bridge.bridge-nf-call-iptables', '0');
    host.sysctls.set('net.bridge.bridge-nf-call-ip6tables', '0');
    host.sysctls.set('vm.overcommit_memory', '0');
    host.sysctls.set('kernel.panic', '0');
    host.loadedModules.add('overlay'); // built in: must stay loaded after uninstall
    const report = await runStepCycle([kubeKernelModules, kubeSysctl], { config: testConfig(), host });
    expect(report.installed.sysctls['net.ipv4.ip_forward']).to.equal('1');
    expect(report.installed.files).to.have.keys(MODULES_FILE, SYSCTL_FILE);
    expect(report.installed.modules).to.deep.equal(['br_netfilter', 'overlay']);
    expect(host.sysctls.get('net.ipv4.ip_forward')).to.equal('0');
    expect(host.sysctls.get('vm.overcommit_memory')).to.equal('0');
    expect(host.sysctls.has('kernel.keys.root_maxkeys')).to.equal(false);
    // A module flexnode loaded stays loaded after uninstall, as on a real machine (unloading one in use is unsafe);
    // the modules-load.d file that would load it at boot is gone.
    expect([...host.loadedModules].sort()).to.deep.equal(['br_netfilter', 'overlay']);
    expect(host.files.has(MODULES_FILE)).to.equal(false);
  });

  it('sets what protectKernelDefaults needs (the kubelet refuses to start otherwise), and only networking when it is off', async () => {
    const on = await runStepCycle(kubeSysctl, { config: testConfig() });
    for (const [key, value] of Object.entries(KERNEL_DEFAULTS_SYSCTLS)) expect(on.installed.sysctls[key], key).to.equal(value);
    expect(on.installed.sysctls['kernel.panic']).to.equal('10');
    const off = await runStepCycle(kubeSysctl, { config: testConfig({ pluginConfig: { '@flexnode/plugin-kube': { protectKernelDefaults: false } } }) });
    expect(off.installed.sysctls).to.not.have.property('vm.overcommit_memory');
    expect(off.installed.sysctls['net.ipv4.ip_forward']).to.equal('1');
  });

  it('reports drift when a setting is changed behind its back', async () => {
    const host = new MemoryHost();
    await runStepCycle(kubeSysctl, { config: testConfig(), host }); // leaves the machine pristine
    const view = host.forStep('kube.sysctl');
    const step = kubeSysctl.create({ host: view, config: testConfig() });
    await step.install();
    host.sysctls.set('net.ipv4.ip_forward', '0');
    const check = await step.check();
    expect(check).to.deep.include({ status: 'drifted' });
    expect(check.status !== 'ok' && check.reason).to.match(/net\.ipv4\.ip_forward is 0/);
    expect(renderSysctlFile({ a: '1' })).to.match(/^# Written by flexnode/);
  });
});

describe('kube.swap (in-memory host)', () => {
  it('parses /proc/swaps and fstab', () => {
    expect(parseProcSwaps(swapsText(['/swap.img', '/var/my swap']))).to.deep.equal(['/swap.img', '/var/my swap']);
    expect(parseProcSwaps(swapsText([]))).to.deep.equal([]);
    expect(fstabSwapLines(FSTAB_TEXT)).to.deep.equal([2]); // not the noauto one, not the commented one
    expect(commentOutSwap(FSTAB_TEXT).split('\n')[2]).to.equal(`${FSTAB_MARK}/swap.img none swap sw 0 0`);
  });

  it('turns swap off now and in fstab; uninstall restores fstab and turns on again only what it turned off', async () => {
    const host = new MemoryHost();
    host.seedFile(FSTAB, FSTAB_TEXT, 0o644).seedFile('/swap.img', 'swap');
    host.seedFile(PROC_SWAPS, swapsText(['/swap.img']), 0o444);
    const calls: string[] = [];
    host.onExec('swapoff', ([device]) => {
      calls.push(`swapoff ${device}`);
      host.seedFile(PROC_SWAPS, swapsText([]), 0o444);
      return { exitCode: 0, stdout: '', stderr: '' };
    });
    host.onExec('swapon', ([device]) => {
      calls.push(`swapon ${device}`);
      host.seedFile(PROC_SWAPS, swapsText([device!]), 0o444);
      return { exitCode: 0, stdout: '', stderr: '' };
    });
    const report = await runStepCycle(kubeSwap, { config: testConfig(), host });
    expect(report.initial['kube.swap']).to.deep.include({ status: 'missing' });
    expect(calls).to.deep.equal(['swapoff /swap.img', 'swapon /swap.img']);
    expect(report.installOps.map((o) => `${o.op} ${o.target}`)).to.include.members(['record swap-off', 'exec swapoff /swap.img', `write ${FSTAB}`]);
    expect(host.files.get(FSTAB)!.content.toString()).to.equal(FSTAB_TEXT); // restored byte for byte
  });

  it('with no swap it changes nothing', async () => {
    const host = new MemoryHost();
    host.seedFile(FSTAB, 'UUID=abcd / ext4 defaults 0 1\n').seedFile(PROC_SWAPS, swapsText([]));
    const report = await runStepCycle(kubeSwap, { config: testConfig(), host });
    expect(report.initial['kube.swap']).to.deep.include({ status: 'ok' });
    expect(report.installOps).to.deep.equal([]);
  });
});

describe('kube.packages (in-memory host)', () => {
  const ok = () => ({ exitCode: 0, stdout: '', stderr: '' });

  it('installs only the missing tools, and uninstall removes only those', async () => {
    const host = new MemoryHost();
    host.onExec('iptables', ok).onExec('apt-get', ok); // iptables present as a command
    host.packages.add('socat'); // socat present as a package
    const report = await runStepCycle(kubePackages, { config: testConfig(), host });
    expect(report.initial['kube.packages']).to.deep.include({ status: 'missing' });
    expect(report.installed.packages).to.deep.equal(['conntrack', 'ebtables', 'socat']);
    expect([...host.packages]).to.deep.equal(['socat']);
  });

  it('without apt-get it fails with what to install', async () => {
    const host = new MemoryHost();
    const step = kubePackages.create({ host: host.forStep('kube.packages') });
    let error: Error | undefined;
    await step.install().catch((e: Error) => (error = e));
    expect(error?.message).to.match(/no apt-get: conntrack, iptables, socat, ebtables/);
  });
});
