import { expect } from 'chai';
import { debDirectories } from './package-dirs.js';

describe("the agent package's directories", () => {
  it('are read from dpkg-deb --contents (tar verbose listing), files and links left out', () => {
    const listing = [
      'drwxr-xr-x root/root         0 2026-05-01 12:00 ./',
      'drwxr-xr-x root/root         0 2026-05-01 12:00 ./opt/',
      'drwxr-xr-x root/root         0 2026-05-01 12:00 ./opt/azcmagent/',
      'drwxr-xr-x root/root         0 2026-05-01 12:00 ./opt/azcmagent/bin/',
      '-rwxr-xr-x root/root      9120 2026-05-01 12:00 ./opt/azcmagent/bin/azcmagent',
      'drwxr-xr-x root/root         0 2026-05-01 12:00 ./usr/bin/',
      'lrwxrwxrwx root/root         0 2026-05-01 12:00 ./usr/bin/azcmagent -> /opt/azcmagent/bin/azcmagent',
    ].join('\n');
    expect(debDirectories(listing)).to.deep.equal(['/opt', '/opt/azcmagent', '/opt/azcmagent/bin', '/usr/bin']);
  });
});
