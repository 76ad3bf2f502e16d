import { expect } from 'chai';
import { MemoryHost } from '@flexnode/sdk/testing';
import type { AgentRepository } from './agent-source.js';
import { aptListPrefix, configuredElsewhere, keyringPath, listEntry, sourceEntries } from './apt-repository.js';

const repo: AgentRepository = {
  url: 'https://packages.microsoft.com/ubuntu/22.04/prod',
  suite: 'jammy',
  component: 'main',
  keyUrl: 'https://packages.microsoft.com/keys/microsoft.asc',
  fingerprint: 'BC528686B50D79E339D3721CEB3E94ADBE1229CF',
  arch: 'amd64',
};

describe('the apt source of the Arc agent', () => {
  it('is one signed-by entry for this architecture', () => {
    const entry = listEntry(repo, keyringPath(true));
    expect(entry.split('\n').filter((l) => l && !l.startsWith('#'))).to.deep.equal([
      'deb [arch=amd64 signed-by=/etc/apt/keyrings/flexnode-azcmagent.asc] https://packages.microsoft.com/ubuntu/22.04/prod jammy main',
    ]);
    expect(keyringPath(false)).to.equal('/etc/apt/keyrings/flexnode-azcmagent.gpg');
  });

  it("names apt's index files as apt does (URItoFileName)", () => {
    expect(aptListPrefix(repo.url, 'jammy')).to.equal('packages.microsoft.com_ubuntu_22.04_prod_dists_jammy_');
    expect(aptListPrefix('https://10.231.7.1:8443/debian/12/prod/', 'bookworm')).to.equal('10.231.7.1:8443_debian_12_prod_dists_bookworm_');
    expect(aptListPrefix('http://mirror/a_b~c', 'x')).to.equal('mirror_a%5fb%7ec_dists_x_');
  });

  it('reads one-line and deb822 sources', () => {
    expect(
      sourceEntries(
        '# deb https://x y z\ndeb [arch=amd64,arm64 signed-by=/usr/share/keyrings/microsoft-prod.gpg] https://packages.microsoft.com/ubuntu/22.04/prod jammy main\ndeb-src https://s t u\n',
        false,
      ),
    ).to.deep.equal([['https://packages.microsoft.com/ubuntu/22.04/prod', 'jammy']]);
    const deb822 =
      'Types: deb\nURIs: https://packages.microsoft.com/ubuntu/24.04/prod/\nSuites: noble\nComponents: main\n\nTypes: deb\nEnabled: no\nURIs: https://off\nSuites: x\n';
    expect(sourceEntries(deb822, true)).to.deep.equal([['https://packages.microsoft.com/ubuntu/24.04/prod/', 'noble']]);
  });

  it("finds Microsoft's own entry (packages-microsoft-prod) so that no second, conflicting one is added", async () => {
    const host = new MemoryHost()
      .seedFile('/etc/apt/sources.list', 'deb http://archive.ubuntu.com/ubuntu jammy main\n')
      .seedFile(
        '/etc/apt/sources.list.d/microsoft-prod.list',
        'deb [arch=amd64,arm64,armhf signed-by=/usr/share/keyrings/microsoft-prod.gpg] https://packages.microsoft.com/ubuntu/22.04/prod/ jammy main\n',
      );
    expect(await configuredElsewhere(host.forStep('arc.agent'), repo)).to.equal('/etc/apt/sources.list.d/microsoft-prod.list');
    expect(await configuredElsewhere(host.forStep('arc.agent'), { ...repo, suite: 'noble' })).to.equal(undefined);
  });
});
