import { expect } from 'chai';
import { exemptLoopbackFromProxy, isLoopbackHost, maskedUrl, noProxyMatches, proxyUrl } from './urls.js';

describe('URLs as shown, and proxy URLs', () => {
  it('masks everything up to the last @, whatever a parser would make of it', () => {
    expect(maskedUrl('http://u:p@proxy:3128')).to.equal('http://***@proxy:3128');
    expect(maskedUrl('http://u:p#a/b@c@proxy:3128')).to.equal('http://***@proxy:3128');
    expect(maskedUrl('u:s3cret@proxy:3128')).to.equal('***@proxy:3128');
    expect(maskedUrl('https://mirror.example/flexnode')).to.equal('https://mirror.example/flexnode');
  });

  it('reads a proxy without a scheme as http://, and keeps user, password, host and port', () => {
    const url = proxyUrl('u:p%40ss@proxy.example:3128');
    expect([url.protocol, url.hostname, url.port, url.username, decodeURIComponent(url.password)]).to.deep.equal([
      'http:',
      'proxy.example',
      '3128',
      'u',
      'p@ss',
    ]);
    expect(proxyUrl('http://proxy.example:3128/').hostname).to.equal('proxy.example');
  });

  it('refuses what would dial another host or is no proxy URL, never echoing the password', () => {
    const refusal = (raw: string) => {
      try {
        proxyUrl(raw);
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    };
    for (const bad of ['http://user:12/s3cret@proxy:3128', 'http://proxy:3128/path', 'http://proxy:3128?x=1']) {
      expect(refusal(bad), bad)
        .to.match(/after its port/)
        .and.not.include('s3cret');
    }
    for (const bad of ['http://user:s3cret?x@proxy:3128', 'http://user:s3cret#x@proxy:3128']) {
      expect(refusal(bad), bad)
        .to.match(/is not a URL like.*percent-encoded/)
        .and.not.include('s3cret');
    }
    for (const bad of ['ftp://proxy:21', 'http://']) expect(refusal(bad), bad).to.match(/is not a URL like http:\/\/proxy.example:3128$/);
  });

  it('exempts loopback from a proxy in NO_PROXY and no_proxy, once, keeping what they held; without a proxy, nothing', () => {
    const env: Record<string, string | undefined> = { https_proxy: 'http://p:3128', NO_PROXY: '.corp.example, 10.0.0.0/8' };
    exemptLoopbackFromProxy(env);
    expect([env.NO_PROXY, env.no_proxy]).to.deep.equal(Array(2).fill('.corp.example,10.0.0.0/8,127.0.0.1,localhost,::1'));
    const named: Record<string, string | undefined> = { HTTP_PROXY: 'http://p:3128', no_proxy: 'LOCALHOST,127.0.0.1' };
    exemptLoopbackFromProxy(named);
    expect(named.NO_PROXY).to.equal('LOCALHOST,127.0.0.1,::1');
    const none: Record<string, string | undefined> = { NO_PROXY: 'x' };
    exemptLoopbackFromProxy(none);
    expect(none).to.deep.equal({ NO_PROXY: 'x' });
  });

  it('knows loopback hosts: localhost, 127/8, ::1 (bracketed or not); and ALL_PROXY is a proxy too', () => {
    for (const h of ['localhost', 'LOCALHOST', 'a.localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]']) expect(isLoopbackHost(h), h).to.equal(true);
    for (const h of ['10.0.0.1', 'localhost.example', '1127.0.0.1', '::2', 'example.com']) expect(isLoopbackHost(h), h).to.equal(false);
    const env: Record<string, string | undefined> = { ALL_PROXY: 'http://p:3128' };
    exemptLoopbackFromProxy(env);
    expect(env.NO_PROXY).to.equal('127.0.0.1,localhost,::1');
  });

  it('matches NO_PROXY as curl does: names and subdomains, .domain and *.domain, *, addresses, ports only for a request', () => {
    const list = 'internal.example, .corp.test *.lab.test,10.0.0.5,mirror.local:8443,[fd00::1]:443,::2';
    for (const [host, port] of [
      ['internal.example'],
      ['a.internal.example'],
      ['b.corp.test'],
      ['corp.test'],
      ['x.lab.test'],
      ['10.0.0.5', 80],
      ['mirror.local', 8443],
      ['mirror.local'],
      ['[fd00::1]', 443],
      ['::2', 1],
    ] as [string, number?][])
      expect(noProxyMatches(list, host, port), `${host}:${port}`).to.equal(true);
    for (const [host, port] of [['notinternal.example'], ['mirror.local', 443], ['fd00::1', 80], ['10.0.0.6'], ['lab.testx']] as [string, number?][])
      expect(noProxyMatches(list, host, port), `${host}:${port}`).to.equal(false);
    expect(noProxyMatches('*', 'anything', 1)).to.equal(true);
    expect(noProxyMatches(undefined, 'anything')).to.equal(false);
  });
});
