import { expect } from 'chai';
import { testConfig } from '@flexnode/sdk/testing';
import { Redactor } from '../logging/index.js';
import { registerConfigSecrets, urlPasswords } from './secrets.js';

describe('the secrets a config holds, taught to the redactor', () => {
  it('a password in any URL (mirror, proxy, a plugin setting), as written and decoded, with its user', async () => {
    const config = testConfig({
      artifacts: { mirror: 'https://reader:s3cr3t%2Fm@mirror.internal/flexnode' },
      proxy: { https: 'http://ops:pw@proxy.internal:3128' },
      pluginConfig: { '@org/plugin-x': { feeds: ['https://u:longer-secret@feed.internal/'] } },
    });
    expect(urlPasswords(config)).to.have.members(['reader:s3cr3t%2Fm', 's3cr3t%2Fm', 's3cr3t/m', 'ops:pw', 'pw', 'u:longer-secret', 'longer-secret']);
    const redactor = new Redactor();
    await registerConfigSecrets(redactor, config, '/');
    const logged = redactor.redact('GET https://reader:s3cr3t%2Fm@mirror.internal/flexnode/runc via http://ops:pw@proxy.internal:3128 (s3cr3t/m)');
    expect(logged).to.not.match(/s3cr3t|ops:pw|longer-secret/);
    expect(logged).to.contain('mirror.internal/flexnode/runc');
  });

  it("a password a URL parser cannot take (an unescaped '#', '/' or '[') is a secret all the same", async () => {
    const proxy = 'http://svc:Pa#ss/20[24@proxy.corp:3128';
    expect(urlPasswords({ proxy })).to.include('Pa#ss/20[24');
    const redactor = new Redactor();
    await registerConfigSecrets(redactor, testConfig({ proxy: { https: proxy } }), '/');
    expect(redactor.redact(`unreachable via proxy ${proxy}: Invalid URL`)).to.not.contain('Pa#ss');
  });

  it('URLs without a password, and text that only looks like one, add nothing', () => {
    expect(urlPasswords({ a: 'https://mirror.internal/x', b: 'https://user@host/', c: 'user:pass@host', d: 42 })).to.deep.equal([]);
  });
});
