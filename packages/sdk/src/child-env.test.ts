import { expect } from 'chai';
import { childEnvironment, isCredentialVariable } from './child-env.js';

describe('SDK childEnvironment', () => {
  it('drops credentials, keeps the rest (proxies included), adds what the caller passes', () => {
    const base = {
      PATH: '/usr/bin',
      HTTPS_PROXY: 'http://proxy:3128',
      no_proxy: 'localhost',
      AZURE_CLIENT_SECRET: 's',
      AZURE_CLIENT_ID: 'id',
      AZURE_CLIENT_CERTIFICATE_PASSWORD: 'p',
      AZURE_FEDERATED_TOKEN_FILE: '/var/run/token',
      ARM_CLIENT_SECRET: 's',
      GITHUB_TOKEN: 't',
      NPM_CONFIG__AUTH: 'a',
      MY_API_KEY: 'k',
      IDENTITY_HEADER: 'h',
      DEBIAN_FRONTEND: 'noninteractive',
    };
    const env = childEnvironment({ DEBIAN_FRONTEND: 'readline', NEEDED_TOKEN: 'given' }, base);
    expect(env).to.deep.equal({
      PATH: '/usr/bin',
      HTTPS_PROXY: 'http://proxy:3128',
      no_proxy: 'localhost',
      AZURE_CLIENT_ID: 'id',
      DEBIAN_FRONTEND: 'readline',
      NEEDED_TOKEN: 'given',
    });
    for (const name of ['PASSWORD', 'db_password', 'AWS_SECRET_ACCESS_KEY', 'HTTP_AUTH', 'SSH_AUTH_SOCK'])
      expect(isCredentialVariable(name), name).to.equal(true);
    for (const name of ['PATH', 'HOME', 'KUBECONFIG', 'PASSAGE', 'TOKENIZER', 'AUTHOR']) expect(isCredentialVariable(name), name).to.equal(false);
  });
});
