import { expect } from 'chai';
import { testConfig } from '@flexnode/sdk/testing';
import { noProxyMatches as noProxyCovers } from '@flexnode/sdk';
import { agentProxy, aptProxyOptions, proxySecrets } from './proxy.js';

describe('the config proxy for the Arc agent and apt', () => {
  it('NO_PROXY entries as curl reads them', () => {
    expect(noProxyCovers('*', 'anything.example')).to.equal(true);
    expect(noProxyCovers('azure.com', 'management.azure.com')).to.equal(true);
    expect(noProxyCovers('.azure.com', 'azure.com')).to.equal(true);
    expect(noProxyCovers('*.arc.azure.com', 'gbl.his.arc.azure.com')).to.equal(true);
    expect(noProxyCovers('10.0.0.1:8443, localhost', '10.0.0.1')).to.equal(true);
    expect(noProxyCovers('notazure.com,management.azure.com', 'login.microsoftonline.com')).to.equal(false);
    expect(noProxyCovers(undefined, 'x')).to.equal(false);
  });

  it('gives the agent the https proxy (else the http one) and bypasses a service only when NO_PROXY covers all its hosts', () => {
    expect(agentProxy(testConfig())).to.deep.equal({ bypass: [] });
    const config = testConfig({
      proxy: {
        http: 'http://proxy.corp:3128',
        https: 'http://proxy.corp:3129',
        noProxy: '.arc.azure.com,.guestconfiguration.azure.com,login.microsoftonline.com',
      },
    });
    // AAD also needs login.windows.net and pas.windows.net: not bypassed.
    expect(agentProxy(config)).to.deep.equal({ url: 'http://proxy.corp:3129', bypass: ['Arc'] });
    config.proxy!.noProxy = 'windows.net,.microsoftonline.com,management.azure.com,azure.com';
    expect(agentProxy(config).bypass).to.deep.equal(['AAD', 'ARM', 'Arc']);
    expect(agentProxy(testConfig({ proxy: { http: 'http://p:1' } })).url).to.equal('http://p:1');
  });

  it('outside the public cloud, bypasses follow the configured endpoints', () => {
    const config = testConfig({ proxy: { https: 'http://p:1', noProxy: 'management.usgovcloudapi.net' } });
    config.azure.cloud = 'AzureUSGovernment';
    expect(agentProxy(config).bypass).to.deep.equal(['ARM']);
  });

  it('apt goes through the proxy, and straight to hosts NO_PROXY names', () => {
    expect(aptProxyOptions(undefined, ['https://packages.microsoft.com/ubuntu/22.04/prod'])).to.deep.equal([]);
    expect(
      aptProxyOptions({ https: 'http://p:3128', noProxy: 'mirror.corp' }, ['https://mirror.corp/ubuntu', 'https://packages.microsoft.com/keys/microsoft.asc']),
    ).to.deep.equal(['-o', 'Acquire::https::Proxy=http://p:3128', '-o', 'Acquire::https::Proxy::mirror.corp=DIRECT']);
    expect(proxySecrets({ https: 'http://user:p%40ss@p:3128' })).to.deep.equal(['p@ss', 'p%40ss']);
    // A password with an unescaped '#' parses as something else (host user, port 2024): read from the text.
    expect(proxySecrets({ http: 'http://user:2024#x@p:3128' })).to.deep.equal(['2024#x']);
  });
});
