import { expect } from 'chai';
import { maskedUrl, proxyUrl } from './urls.js';

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
});
