import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { makeHost } from './support.test.helpers.js';

describe('host/sysctl and host/modules under a sandbox root', () => {
  it('sets a key (journaling the previous value) and revert writes it back', async () => {
    const { root, real, reload } = await makeHost();
    await fs.mkdir(join(root, 'proc/sys/net/ipv4'), { recursive: true });
    await fs.writeFile(join(root, 'proc/sys/net/ipv4/ip_forward'), '0\n');
    const host = real.forStep('os.sysctl', 'p');
    expect(await host.sysctl.get('net.ipv4.ip_forward')).to.equal('0');
    expect(await host.sysctl.get('net.ipv4.nope')).to.equal(undefined);
    expect(await host.sysctl.set('net.ipv4.ip_forward', '1')).to.equal(true);
    expect(await host.sysctl.set('net.ipv4.ip_forward', '1')).to.equal(false);
    expect(await fs.readFile(join(root, 'proc/sys/net/ipv4/ip_forward'), 'utf8')).to.equal('1\n');
    expect(await host.sysctl.set('vm.overcommit_memory', '1')).to.equal(true);
    // Under a sandbox root the missing key's directory is created journaled, so that revert removes it too.
    expect((await reload()).get('os.sysctl')!.changes).to.deep.equal([
      { kind: 'sysctl', key: 'net.ipv4.ip_forward', before: '0' },
      { kind: 'mkdir', path: '/proc/sys/vm' },
      { kind: 'sysctl', key: 'vm.overcommit_memory' },
    ]);
    await host.changes.revert();
    expect(await host.sysctl.get('net.ipv4.ip_forward')).to.equal('0');
    expect(await host.sysctl.get('vm.overcommit_memory')).to.equal(undefined);
    expect(await fs.readdir(join(root, 'proc/sys'))).to.deep.equal(['net']);
  });

  it('a set resumed after a kill between journal and write journals the key once, with the first value', async () => {
    const { root, real, journal, reload } = await makeHost();
    await fs.mkdir(join(root, 'proc/sys/net/ipv4'), { recursive: true });
    await fs.writeFile(join(root, 'proc/sys/net/ipv4/ip_forward'), '0\n');
    // The killed run journaled the change but never wrote the value.
    await journal!.append('os.sysctl', { kind: 'sysctl', key: 'net.ipv4.ip_forward', before: '0' }, { plugin: 'p' });
    const host = real.forStep('os.sysctl', 'p');
    expect(await host.sysctl.set('net.ipv4.ip_forward', '1')).to.equal(true);
    expect((await reload()).get('os.sysctl')!.changes).to.deep.equal([{ kind: 'sysctl', key: 'net.ipv4.ip_forward', before: '0' }]);
    await host.changes.revert();
    expect(await host.sysctl.get('net.ipv4.ip_forward')).to.equal('0');
  });

  it('refuses keys that could leave /proc/sys', async () => {
    const { real } = await makeHost();
    let thrown: unknown;
    await real
      .forStep('s', 'p')
      .sysctl.set('net/../../etc/passwd', '1')
      .catch((e) => (thrown = e));
    expect(thrown).to.include({ code: 'SYSCTL_INVALID' });
  });

  it('a module counts as loaded when /sys/module/NAME exists; loading under a sandbox root is refused clearly', async () => {
    const { root, real } = await makeHost();
    await fs.mkdir(join(root, 'sys/module/overlay'), { recursive: true });
    const host = real.forStep('os.modules', 'p');
    expect(await host.modules.isLoaded('overlay')).to.equal(true);
    expect(await host.modules.load('overlay')).to.equal(false);
    let thrown: unknown;
    await host.modules.load('br_netfilter').catch((e) => (thrown = e));
    expect(thrown).to.include({ code: 'MODULES_UNSUPPORTED' });
    expect((thrown as Error).message).to.contain('br_netfilter');
  });
});
