import { expect } from 'chai';
import { applyProxyEnvironment } from './proxy-environment.js';

describe("the config's proxy as the process's environment", () => {
  it('sets both spellings from the config, which wins over the environment, and exempts loopback', () => {
    const env: NodeJS.ProcessEnv = { HTTPS_PROXY: 'http://old:1', NO_PROXY: 'old.example' };
    applyProxyEnvironment({ https: 'http://proxy.example:3128', noProxy: '.corp.example' }, env);
    expect(env).to.deep.equal({
      HTTPS_PROXY: 'http://proxy.example:3128',
      https_proxy: 'http://proxy.example:3128',
      NO_PROXY: '.corp.example,127.0.0.1,localhost,::1',
      no_proxy: '.corp.example,127.0.0.1,localhost,::1',
    });
  });

  it('a proxy from the environment alone gets loopback exempted too; without a proxy nothing changes', () => {
    const env: NodeJS.ProcessEnv = { http_proxy: 'http://proxy.example:3128' };
    applyProxyEnvironment(undefined, env);
    expect(env.NO_PROXY).to.equal('127.0.0.1,localhost,::1');
    const none: NodeJS.ProcessEnv = { PATH: '/bin' };
    applyProxyEnvironment({ noProxy: 'x.example' }, none);
    expect(none).to.deep.equal({ PATH: '/bin', NO_PROXY: 'x.example', no_proxy: 'x.example' });
  });

  it('a config reloaded without its proxy takes it out again: the environment is as before the first', () => {
    const env: NodeJS.ProcessEnv = { PATH: '/bin', no_proxy: 'site.example' };
    applyProxyEnvironment({ https: 'http://u:s3cret@proxy.example:3128' }, env);
    expect(env.HTTPS_PROXY).to.equal('http://u:s3cret@proxy.example:3128');
    applyProxyEnvironment(undefined, env);
    expect(env).to.deep.equal({ PATH: '/bin', no_proxy: 'site.example' });
  });
});
