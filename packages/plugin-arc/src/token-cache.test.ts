import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedToken, cacheFile, execCredential, requestedApiVersion, scopeOf } from './token-cache.js';

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
