// The fake HIMDS: its challenge-response by hand, then the real @azure/identity ManagedIdentityCredential in a
// child process inside a private mount namespace (temp dir bind-mounted on /var/opt, see shared/azure.md).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeHimds } from './fake-himds.js';

const AKS_SERVER_APP = '6dae42f8-4368-4678-94ff-3960e28e3630';
const E2E_DIR = fileURLToPath(new URL('../..', import.meta.url));

async function get(url: string, headers: Record<string, string>) {
  const r = await fetch(url, { headers });
  return { status: r.status, headers: r.headers, body: (await r.json()) as Record<string, string> };
}

describe('fake HIMDS', function () {
  let tmp: string;
  let himds: FakeHimds;

  beforeEach(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'fake-himds-'));
    himds = await FakeHimds.start({ keyDir: join(tmp, 'varopt/azcmagent/tokens'), tokenLifetimeSec: 600 });
  });
  afterEach(async () => {
    await himds.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('answers the Arc challenge, then a token for the Basic key', async () => {
    const url = `${himds.env().IDENTITY_ENDPOINT}?api-version=2020-06-01&resource=${AKS_SERVER_APP}`;
    expect((await get(url, {})).status).to.equal(400); // no Metadata header
    const first = await get(url, { Metadata: 'true' });
    expect(first.status).to.equal(401);
    const realm = /^Basic realm=(.+)$/.exec(first.headers.get('www-authenticate') ?? '')?.[1] ?? '';
    expect(realm).to.match(/^\/var\/opt\/azcmagent\/tokens\/[0-9a-f-]+\.key$/);
    const key = readFileSync(join(tmp, 'varopt/azcmagent/tokens', basename(realm)), 'utf8');
    expect((await get(url, { Metadata: 'true', Authorization: 'Basic wrong' })).status).to.equal(401);
    const ok = await get(url, { Metadata: 'true', Authorization: `Basic ${key}` });
    expect(ok.status).to.equal(200);
    expect(ok.body).to.include({ resource: AKS_SERVER_APP, token_type: 'Bearer', expires_in: '600' });
    expect(himds.isIssued(ok.body.access_token)).to.equal(true);
    expect((await get(url, { Metadata: 'true', Authorization: `Basic ${key}` })).status).to.equal(401); // keys are single-use
  });

  it('serves the real ManagedIdentityCredential (Azure Arc source) in a private mount namespace', async function () {
    if (process.getuid?.() !== 0) this.skip(); // unshare -m and mount need root
    const child = `
      import { ManagedIdentityCredential } from '@azure/identity';
      const t = await new ManagedIdentityCredential().getToken('${AKS_SERVER_APP}/.default');
      console.log(JSON.stringify({ token: t.token, expiresOnTimestamp: t.expiresOnTimestamp }));`;
    const script = `mount --bind "$VAROPT" /var/opt && exec "$NODE" --input-type=module -e "$CHILD"`;
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        'unshare',
        ['-m', '--propagation', 'private', 'sh', '-c', script],
        {
          cwd: E2E_DIR, // resolves @azure/identity from the e2e package
          env: { ...process.env, ...himds.env(), VAROPT: join(tmp, 'varopt'), NODE: process.execPath, CHILD: child },
        },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
      );
    });
    const got = JSON.parse(out) as { token: string; expiresOnTimestamp: number };
    expect(himds.isIssued(got.token)).to.equal(true);
    expect(himds.issued.at(-1)!.resource).to.equal(AKS_SERVER_APP);
    expect(got.expiresOnTimestamp).to.be.greaterThan(Date.now());
  });
});
