import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dpkgInstalled, findRecords } from './dpkg-status.js';

const DATABASE = `Package: conntrack
Status: install ok installed
Priority: optional
Architecture: amd64
Description: Program to modify the conntrack tables
 conntrack is a userspace command line program targeted at
 .
 system administrators.

Package: libc6
Status: install ok installed
Architecture: amd64
Multi-Arch: same

Package: libc6
Status: install ok installed
Architecture: i386

Package: containerd
Status: hold ok installed
Architecture: amd64

Package: socat
Status: deinstall ok config-files
Architecture: amd64

Package: runc
Status: install reinstreq half-installed
Architecture: amd64

Package: tzdata
Status: install ok triggers-pending
Architecture: all
`;

describe('host/dpkg-status: installed packages from the dpkg database', () => {
  it('reads each paragraph: held and trigger-pending packages are installed, config-files and broken ones are not', async () => {
    const dir = await fs.mkdtemp(join(tmpdir(), 'flexnode-dpkg-'));
    const file = join(dir, 'status');
    await fs.writeFile(file, DATABASE);
    try {
      const answers = Object.fromEntries(
        await Promise.all(
          ['conntrack', 'containerd', 'socat', 'runc', 'tzdata', 'libc6', 'libc6:i386', 'libc6:arm64', 'conntrack:amd64', 'tzdata:arm64', 'iptables'].map(
            async (p) => [p, await dpkgInstalled(p, file)],
          ),
        ),
      );
      expect(answers).to.deep.equal({
        conntrack: true,
        containerd: true,
        socat: false,
        runc: false,
        tzdata: true,
        libc6: true,
        'libc6:i386': true,
        'libc6:arm64': false,
        'conntrack:amd64': true,
        'tzdata:arm64': true, // Architecture: all
        iptables: false,
      });
      // dpkg replaces the file on every change: a new one is read again
      await fs.writeFile(`${file}.new`, DATABASE.replace('Status: deinstall ok config-files', 'Status: install ok installed'));
      await fs.rename(`${file}.new`, file);
      expect(await dpkgInstalled('socat', file)).to.equal(true);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('no database (not a dpkg system): no answer, the caller asks dpkg-query', async () => {
    expect(await dpkgInstalled('conntrack', join(tmpdir(), 'flexnode-no-such-dpkg-status'))).to.equal(undefined);
  });

  it('a paragraph without Status is skipped; a name is matched as a whole Package line, not inside others', () => {
    const text = 'Package: a\n\nStatus: install ok installed\n\nPackage: b\nStatus: install ok installed\n';
    expect(findRecords(text, 'a')).to.deep.equal([]);
    expect(findRecords(text, 'b')).to.deep.equal([{ arch: '', state: 'installed', ok: true }]);
    const tricky = 'Package: libfoo\nStatus: install ok installed\nDescription: x\n see Package: foo\n\nPackage: foo-extra\nStatus: install ok installed\n';
    expect(findRecords(tricky, 'foo')).to.deep.equal([]);
    expect(findRecords(tricky, 'libfoo')).to.have.length(1);
    expect(findRecords(`${DATABASE.trimEnd()}`, 'tzdata')).to.deep.equal([{ arch: 'all', state: 'triggers-pending', ok: true }]);
  });
});
