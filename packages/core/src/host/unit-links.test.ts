import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from './exec.js';
import { certainlyEnabled, installLinks } from './unit-links.js';

const unit = (install: string) => `[Unit]\nDescription=t\n[Service]\nExecStart=/bin/true\n${install}`;

describe('host/unit-links: enablement read from the tree, checked against systemctl --root', () => {
  let root: string;
  const resolve = (path: string) => join(root, path);
  const systemctl = (...args: string[]) => spawnSync('systemctl', [`--root=${root}`, ...args], { encoding: 'utf8' });
  before(async function () {
    if (!(await which('systemctl'))) {
      console.log('      SKIP: systemctl is not installed on this machine');
      this.skip();
    }
  });
  beforeEach(async () => {
    root = await fs.mkdtemp(join(tmpdir(), 'flexnode-units-'));
    await fs.mkdir(join(root, 'etc/systemd/system'), { recursive: true });
    await fs.mkdir(join(root, 'usr/lib/systemd/system'), { recursive: true });
  });
  afterEach(() => fs.rm(root, { recursive: true, force: true }));

  it('is certain exactly when systemctl says enabled (enabled, disabled, masked, static, two targets)', async () => {
    await fs.writeFile(join(root, 'etc/systemd/system/one.service'), unit('[Install]\nWantedBy=multi-user.target\n'));
    await fs.writeFile(join(root, 'usr/lib/systemd/system/two.service'), unit('[Install]\nWantedBy=multi-user.target\nRequiredBy=network.target\n'));
    await fs.writeFile(join(root, 'usr/lib/systemd/system/static.service'), unit(''));
    const cases: [string, () => void, boolean][] = [
      ['one.service', () => undefined, false],
      ['one.service', () => execFileSync('systemctl', [`--root=${root}`, 'enable', 'one.service'], { stdio: 'ignore' }), true],
      ['two.service', () => execFileSync('systemctl', [`--root=${root}`, 'enable', 'two.service'], { stdio: 'ignore' }), true],
      ['two.service', () => execFileSync('systemctl', [`--root=${root}`, 'mask', 'two.service'], { stdio: 'ignore' }), false],
      ['one.service', () => execFileSync('systemctl', [`--root=${root}`, 'disable', 'one.service'], { stdio: 'ignore' }), false],
      ['static.service', () => undefined, false],
      ['absent.service', () => undefined, false],
    ];
    for (const [name, act, expected] of cases) {
      act();
      const answer = systemctl('is-enabled', name).stdout.trim();
      expect(await certainlyEnabled(resolve, name), `${name} (systemctl: ${answer})`).to.equal(expected);
      if (expected) expect(answer).to.equal('enabled');
    }
  });

  it('reads WantedBy= and RequiredBy= of [Install] only, several targets per line', () => {
    const text =
      '[Unit]\nWantedBy=ignored.target\n[Install]\n# WantedBy=commented.target\nWantedBy=a.target b.target\nRequiredBy = c.target\nAlias=x.service\n';
    expect(installLinks(text, 'u.service')).to.deep.equal(['a.target.wants/u.service', 'b.target.wants/u.service', 'c.target.requires/u.service']);
  });
});
