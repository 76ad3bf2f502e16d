import { expect } from 'chai';
import { isFlexnodeError, type FlexnodeConfig } from '@flexnode/sdk';
import { testConfig } from '@flexnode/sdk/testing';
import { agentArtifact, agentPackageSource, agentRepository, MICROSOFT_KEYS } from './agent-source.js';
import { arcPluginConfig } from './plugin-config.js';
import { parseOsRelease } from './os-release.js';

const os = (id: string, version: string, codename?: string) =>
  parseOsRelease(`ID=${id}\nVERSION_ID="${version}"\n${codename ? `VERSION_CODENAME=${codename}\n` : ''}PRETTY_NAME="${id} ${version}"\n`);
const withAgent = (agent: Record<string, unknown>): FlexnodeConfig => testConfig({ pluginConfig: { '@flexnode/plugin-arc': { agent } } });
const thrown = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error as Error & { issues?: { path: string }[]; hint?: string; code?: string };
  }
  throw new Error('expected an error');
};

describe('the Arc agent package source (config + os-release)', () => {
  it("is Microsoft's signed repository of the machine's own release, by default", () => {
    const jammy = agentRepository(testConfig(), os('ubuntu', '22.04', 'jammy'), 'amd64');
    expect(jammy).to.deep.equal({
      url: 'https://packages.microsoft.com/ubuntu/22.04/prod',
      suite: 'jammy',
      component: 'main',
      keyUrl: 'https://packages.microsoft.com/keys/microsoft.asc',
      fingerprint: 'BC528686B50D79E339D3721CEB3E94ADBE1229CF',
      arch: 'amd64',
    });
    expect(agentRepository(testConfig(), os('ubuntu', '24.04'), 'arm64')).to.include({
      url: 'https://packages.microsoft.com/ubuntu/24.04/prod',
      suite: 'noble',
      arch: 'arm64',
    });
    expect(agentRepository(testConfig(), os('debian', '12'), 'amd64')).to.include({ url: 'https://packages.microsoft.com/debian/12/prod', suite: 'bookworm' });
    // Newer releases are signed with Microsoft's 2025 key.
    expect(agentRepository(testConfig(), os('debian', '13'), 'amd64')).to.include({
      keyUrl: MICROSOFT_KEYS['microsoft-2025.asc'].url,
      fingerprint: 'AA86F75E427A19DD33346403EE4D7792F748182B',
    });
  });

  it('refuses a release or architecture Microsoft publishes no agent for, naming the fields that would fix it', () => {
    for (const [release, arch] of [
      [os('ubuntu', '18.04'), 'amd64'],
      [os('linuxmint', '21.3'), 'amd64'],
      [os('debian', '11'), 'arm64'],
      [undefined, 'amd64'],
    ] as const) {
      const error = thrown(() => agentRepository(testConfig(), release, arch));
      expect(error.code).to.equal('CONFIG_INVALID');
      expect(error.issues!.map((i) => i.path)).to.deep.equal(
        ['url', 'suite', 'key', 'fingerprint'].map((f) => `pluginConfig["@flexnode/plugin-arc"].agent.repository.${f}`),
      );
      expect(error.hint).to.include('"deb"');
    }
    expect(thrown(() => agentRepository(testConfig(), os('ubuntu', '18.04'), 'amd64')).message)
      .to.include('Ubuntu 22.04')
      .and.include('Debian 12');
  });

  it('takes a mirror or an air-gapped repository from the config, fingerprint checked in any spelling', () => {
    const mirror = withAgent({
      repository: {
        url: 'https://mirror.corp:8443/pmc/ubuntu/22.04/prod/',
        key: 'https://mirror.corp:8443/keys/corp.asc',
        fingerprint: 'aa86 f75e 427a 19dd 3334  6403 ee4d 7792 f748 182b',
      },
    });
    expect(agentRepository(mirror, os('ubuntu', '22.04'), 'amd64')).to.include({
      url: 'https://mirror.corp:8443/pmc/ubuntu/22.04/prod',
      suite: 'jammy',
      keyUrl: 'https://mirror.corp:8443/keys/corp.asc',
      fingerprint: 'AA86F75E427A19DD33346403EE4D7792F748182B',
    });
    // A release of its own needs the whole repository said.
    const custom = withAgent({
      repository: {
        url: 'https://mirror.corp/ubuntu/26.04/prod',
        suite: 'resolute',
        key: 'https://mirror.corp/k.asc',
        fingerprint: MICROSOFT_KEYS['microsoft-2025.asc'].fingerprint,
      },
    });
    expect(agentRepository(custom, os('ubuntu', '26.04'), 'amd64')).to.include({ suite: 'resolute', component: 'main' });
  });

  it('pins the package version when configured; a bad version or repository field is a config error', () => {
    expect(agentPackageSource(withAgent({ version: '1.50.02997.1393' }), os('ubuntu', '22.04'), 'amd64')).to.include({
      kind: 'apt',
      package: 'azcmagent=1.50.02997.1393',
    });
    expect(agentPackageSource(testConfig(), os('ubuntu', '22.04'), 'amd64')).to.include({ package: 'azcmagent' });
    for (const [agent, path] of [
      [{ version: '1.0 --allow-unauthenticated' }, 'agent.version'],
      [{ repository: { url: 'https://user:secret@mirror/x' } }, 'agent.repository.url'],
      [{ repository: { suite: 'jammy main' } }, 'agent.repository.suite'],
      [{ repository: { url: 'https://mirror/x#y' } }, 'agent.repository.url'],
      [{ repository: { fingerprint: 'BC52' } }, 'agent.repository.fingerprint'],
    ] as const) {
      const error = thrown(() => arcPluginConfig(withAgent(agent)));
      expect(error.issues?.[0]?.path, JSON.stringify(agent)).to.equal(`pluginConfig["@flexnode/plugin-arc"].${path}`);
    }
  });

  it('a misspelt setting of the section, or of its retry, is a config error naming the known ones', () => {
    for (const [section, path] of [
      [{ identityTimeoutSecond: 10 }, 'identityTimeoutSecond'],
      [{ retry: { maxRetry: 3 } }, 'retry.maxRetry'],
    ] as const) {
      const error = thrown(() => arcPluginConfig(testConfig({ pluginConfig: { '@flexnode/plugin-arc': section } })));
      expect(error.issues?.[0]?.path).to.equal(`pluginConfig["@flexnode/plugin-arc"].${path}`);
      expect(error.message).to.contain('is not a setting of @flexnode/plugin-arc; known:');
    }
    expect(
      arcPluginConfig(testConfig({ pluginConfig: { '@flexnode/plugin-arc': { retry: { maxRetries: 2 }, pollIntervalMs: 100 } } })).pollIntervalMs,
    ).to.equal(100);
  });

  it('the deb source downloads from the pool of this release, not a fixed one', () => {
    const sha = 'a'.repeat(64);
    const noble = agentArtifact(withAgent({ source: 'deb', version: '1.50.1', sha256: sha }), 'arm64', os('ubuntu', '24.04'));
    expect(noble.url).to.equal('https://packages.microsoft.com/ubuntu/24.04/prod/pool/main/a/azcmagent/azcmagent_1.50.1_arm64.deb');
    expect(noble.mirrorPath).to.equal('azcmagent/v1.50.1/azcmagent_1.50.1_arm64.deb');
    const bookworm = agentArtifact(withAgent({ source: 'deb', version: '1.50.1', sha256: sha }), 'amd64', os('debian', '12'));
    expect(bookworm.url).to.include('/debian/12/prod/pool/');
    // No public single binary exists: without a mirror or a URL that is a config error, not a 404 later.
    const error = thrown(() => agentArtifact(withAgent({ source: 'binary', version: '1.50.1', sha256: sha }), 'amd64'));
    expect(isFlexnodeError(error) && error.message).to.include('artifacts.mirror');
  });

  it('parses os-release as systemd writes it', () => {
    expect(
      parseOsRelease('PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n'),
    ).to.deep.equal({
      id: 'ubuntu',
      versionId: '24.04',
      codename: 'noble',
      prettyName: 'Ubuntu 24.04.1 LTS',
    });
  });
});
