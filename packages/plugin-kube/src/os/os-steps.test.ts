import { MemoryHost, runStepCycle, testConfig } from '@flexnode/sdk/testing';
import { expect } from 'chai';
import { kubeKernelModules, MODULES_FILE } from './kernel-modules.js';
import { kubeSysctl, SYSCTL_FILE } from './sysctl.js';

describe('plugin-kube OS steps (in-memory host)', () => {
  it('sets the sysctls and modules, is idempotent, and uninstall restores the previous values', async () => {
    const host = new MemoryHost();
    host.sysctls.set('net.ipv4.ip_forward', '0');
    host.sysctls.set('net.bridge.bridge-nf-call-iptables', '0');
    host.sysctls.set('net.bridge.bridge-nf-call-ip6tables', '0');
    host.loadedModules.add('overlay'); // built in: must stay loaded after uninstall
    const report = await runStepCycle([kubeKernelModules, kubeSysctl], { config: testConfig(), host });
    expect(report.installed.sysctls['net.ipv4.ip_forward']).to.equal('1');
    expect(report.installed.files).to.have.keys(MODULES_FILE, SYSCTL_FILE);
    expect(report.installed.modules).to.deep.equal(['br_netfilter', 'overlay']);
    expect(host.sysctls.get('net.ipv4.ip_forward')).to.equal('0');
    expect([...host.loadedModules]).to.deep.equal(['overlay']);
  });

  it('reports drift when a setting is changed behind its back', async () => {
    const host = new MemoryHost();
    await runStepCycle(kubeSysctl, { config: testConfig(), host }); // leaves the machine pristine
    const view = host.forStep('kube.sysctl');
    const step = kubeSysctl.create(view);
    await step.install();
    host.sysctls.set('net.ipv4.ip_forward', '0');
    const check = await step.check();
    expect(check).to.deep.include({ status: 'drifted' });
    expect(check.status !== 'ok' && check.reason).to.match(/net\.ipv4\.ip_forward is 0/);
  });
});
