import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedToken, cacheFile, execCredential, recordedPrincipal, requestedApiVersion, resourceProblem, scopeOf, tokenPrincipal } from './token-cache.js';

describe('token cache (flexnode token)', () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'arc-tokens-')), 'tokens');
  });
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('fetches once, then serves from a 0600 file in a 0700 directory until 5 minutes before expiry', async () => {
    let calls = 0;
    const now = Date.now();
    const fetch = async () => ({ token: `t${++calls}`, expiresOnTimestamp: now + 60 * 60_000 });
    const scope = scopeOf('6dae42f8-4368-4678-94ff-3960e28e3630');
    expect(scope).to.equal('6dae42f8-4368-4678-94ff-3960e28e3630/.default');
    expect(await cachedToken(dir, scope, fetch, now)).to.deep.include({ cached: false });
    expect((await cachedToken(dir, scope, fetch, now + 1000)).token.token).to.equal('t1');
    expect(calls).to.equal(1);
    expect(statSync(dir).mode & 0o777).to.equal(0o700);
    const files = readdirSync(dir);
    expect(files).to.have.length(1);
    expect(statSync(join(dir, files[0]!)).mode & 0o777).to.equal(0o600);
    // within the margin: refreshed
    const late = await cachedToken(dir, scope, fetch, now + 56 * 60_000);
    expect(late).to.deep.include({ cached: false });
    expect(calls).to.equal(2);
  });

  it('ignores a cache file others can read', async () => {
    const scope = 'https://x/.default';
    const now = Date.now();
    const file = cacheFile(dir, scope);
    await cachedToken(dir, scope, async () => ({ token: 'a', expiresOnTimestamp: now + 3_600_000 }), now);
    writeFileSync(file, JSON.stringify({ scope, token: 'planted', expiresOnTimestamp: now + 3_600_000 }));
    chmodSync(file, 0o644);
    const got = await cachedToken(dir, scope, async () => ({ token: 'fresh', expiresOnTimestamp: now + 3_600_000 }), now);
    expect(got.token.token).to.equal('fresh');
    expect(statSync(file).mode & 0o777).to.equal(0o600);
  });

  it('a cached token of another identity (the machine connected again) is a miss; one of this identity a hit', async () => {
    const jwt = (oid: string) => `h.${Buffer.from(JSON.stringify({ oid, aud: 'x' })).toString('base64url')}.s`;
    expect(tokenPrincipal(jwt('0a1b'))).to.equal('0a1b');
    expect(tokenPrincipal('not-a-jwt')).to.equal(undefined);
    const scope = 'https://x/.default';
    const now = Date.now();
    let fetched = 0;
    const fetch = (oid: string) => async () => ({ token: jwt(oid), expiresOnTimestamp: now + 3_600_000 + ++fetched });
    await cachedToken(dir, scope, fetch('old-identity'), now, true, 'old-identity');
    expect((await cachedToken(dir, scope, fetch('old-identity'), now, true, 'OLD-IDENTITY')).cached, 'same identity, any case').to.equal(true);
    const after = await cachedToken(dir, scope, fetch('new-identity'), now, true, 'new-identity');
    expect(after.cached).to.equal(false);
    expect(tokenPrincipal(after.token.token)).to.equal('new-identity');
    expect((await cachedToken(dir, scope, fetch('x'), now)).cached, 'no identity recorded: no opinion').to.equal(true);
    // The record arc.connect writes.
    const record = join(dir, '..', 'machine.json');
    writeFileSync(record, JSON.stringify({ resourceId: '/x', principalId: 'new-identity' }));
    expect(await recordedPrincipal(record)).to.equal('new-identity');
    expect(await recordedPrincipal(join(dir, '..', 'absent.json'))).to.equal(undefined);
  });

  it('prints a client-go ExecCredential', () => {
    const out = JSON.parse(execCredential({ token: 'tok', expiresOnTimestamp: Date.UTC(2030, 0, 2, 3, 4, 5) }, 'client.authentication.k8s.io/v1beta1'));
    expect(out).to.deep.equal({
      kind: 'ExecCredential',
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      spec: { interactive: false },
      status: { token: 'tok', expirationTimestamp: '2030-01-02T03:04:05Z' },
    });
    expect(requestedApiVersion({ KUBERNETES_EXEC_INFO: '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"}' })).to.equal(
      'client.authentication.k8s.io/v1',
    );
  });
});

describe('resourceProblem (flexnode token --resource)', () => {
  it('takes application ids and application ID URIs, with or without their /.default scope', () => {
    for (const ok of [
      '6dae42f8-4368-4678-94ff-3960e28e3630',
      '6DAE42F8-4368-4678-94FF-3960E28E3630/.default',
      'https://management.azure.com/',
      'api://11111111-2222-3333-4444-555555555555',
      'https://vault.azure.net/.default',
    ]) {
      expect(resourceProblem(ok), ok).to.equal(undefined);
    }
  });

  it('refuses bare words, spaces, control characters, schemes without a host and overlong values', () => {
    for (const bad of [
      '',
      'aks',
      '6dae42f8-4368-4678-94ff',
      'https://',
      'https:///x',
      'https://a b',
      'api://x\ny',
      'api://\u0000',
      'file:/etc/passwd',
      `https://${'a'.repeat(600)}`,
    ]) {
      expect(resourceProblem(bad), JSON.stringify(bad)).to.match(/^--resource ".*" is neither an application id/);
    }
  });
});
