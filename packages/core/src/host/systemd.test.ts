import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { which } from './exec.js';
import { makeHost } from './support.test.helpers.js';

const UNIT = `[Unit]
Description=test unit
[Service]
ExecStart=/bin/true
[Install]
WantedBy=multi-user.target
`;

describe('host/systemd under a sandbox root (systemctl --root)', () => {
  before(async function () {
    if (!(await which('systemctl'))) {
      console.log('      SKIP: systemctl is not installed on this machine');
      this.skip();
    }
  });

  it('enables with the previous state journaled; start is recorded, not performed; revert disables', async () => {
    const { root, real, log } = await makeHost();
    await fs.mkdir(join(root, 'etc/systemd/system'), { recursive: true });
    await fs.writeFile(join(root, 'etc/systemd/system/flexnode-test.service'), UNIT);
    const host = real.forStep('containerd.service', 'p');
    expect(await host.systemd.available()).to.equal(false);
    expect(await host.systemd.isEnabled('flexnode-test.service')).to.equal(false);
    expect(await host.systemd.enable('flexnode-test.service')).to.equal(true);
    expect(await host.systemd.isEnabled('flexnode-test.service')).to.equal(true);
    const wants = join(root, 'etc/systemd/system/multi-user.target.wants/flexnode-test.service');
    expect(await fs.readlink(wants)).to.equal('/etc/systemd/system/flexnode-test.service');
    expect(await host.systemd.enable('flexnode-test.service')).to.equal(false);

    expect(await host.systemd.start('flexnode-test.service')).to.equal(true);
    expect(await host.systemd.isActive('flexnode-test.service')).to.equal(false);
    expect(log.text()).to.contain('recorded, not performed');
    await host.systemd.daemonReload(); // never journaled
    expect(host.changes.list()).to.deep.equal([
      { kind: 'unit-enabled', unit: 'flexnode-test.service', wasEnabled: false },
      { kind: 'unit-started', unit: 'flexnode-test.service', wasActive: false },
    ]);

    await host.changes.revert();
    expect(await host.systemd.isEnabled('flexnode-test.service')).to.equal(false);
    expect(await fs.lstat(wants).catch(() => undefined)).to.equal(undefined);
    expect(host.changes.list()).to.deep.equal([]);
  });

  it('disable of a unit that was enabled is put back by revert', async () => {
    const { root, real } = await makeHost();
    await fs.mkdir(join(root, 'etc/systemd/system'), { recursive: true });
    await fs.writeFile(join(root, 'etc/systemd/system/other.service'), UNIT);
    execFileSync('systemctl', [`--root=${root}`, 'enable', 'other.service'], { stdio: 'pipe' });
    const host = real.forStep('s', 'p');
    expect(await host.systemd.disable('other.service')).to.equal(true);
    expect(await host.systemd.isEnabled('other.service')).to.equal(false);
    await host.changes.revert();
    expect(await host.systemd.isEnabled('other.service')).to.equal(true);
  });

  it('refuses unit names that could be read as options', async () => {
    const { real } = await makeHost();
    let thrown: unknown;
    await real
      .forStep('s', 'p')
      .systemd.enable('--now')
      .catch((e) => (thrown = e));
    expect(thrown).to.include({ code: 'UNIT_INVALID' });
  });
});
