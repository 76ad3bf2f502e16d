// The azcmagent STAND-IN as a child process against the fake ARM and fake Entra (trusted via NODE_EXTRA_CA_CERTS).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeArm } from '../fake-arm.js';
import { FakeEntra } from '../fake-entra.js';
import { standinPath } from './install.js';

const SUB = '11111111-2222-3333-4444-555555555555';
const TENANT = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const SP = { clientId: 'cccccccc-0000-0000-0000-000000000002', clientSecret: 'sp-secret' };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('azcmagent stand-in', function () {
  let arm: FakeArm;
  let entra: FakeEntra;
  let tmp: string;
  let state: string;

  before(async () => {
    entra = await FakeEntra.start({ clients: [SP] });
    arm = await FakeArm.start({ acceptToken: (t) => entra.isIssued(t) || t === 'operator-token', adminRequiresAuth: true });
  });
  after(async () => {
    await arm?.stop();
    await entra?.stop();
  });
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'azcmagent-standin-'));
    state = join(tmp, 'state.json');
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  function run(args: string[]): Promise<Run> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [standinPath('azcmagent'), ...args],
        {
          env: {
            ...process.env,
            NODE_EXTRA_CA_CERTS: arm.certPath,
            AZCMAGENT_STANDIN_ARM: arm.url,
            AZCMAGENT_STANDIN_AUTHORITY: entra.url,
            AZCMAGENT_STANDIN_STATE: state,
          },
        },
        (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }
  const base = (name: string) => ['--resource-group', 'rg', '--tenant-id', TENANT, '--location', 'eastus', '--subscription-id', SUB, '--resource-name', name];

  it('says it is a stand-in', async () => {
    expect((await run(['version'])).stdout).to.match(/^azcmagent version \S+ \(stand-in/);
    expect((await run(['--help'])).stdout).to.include('stand-in');
  });

  it('keeps local settings (config get/set/clear), shows the proxy, refuses unknown ones', async () => {
    expect((await run(['config', 'get', 'proxy.url'])).stdout).to.equal('\n');
    expect((await run(['config', 'set', 'proxy.url', 'http://proxy.corp:3128'])).code).to.equal(0);
    expect((await run(['config', 'set', 'proxy.bypass', 'ARM,Arc'])).code).to.equal(0);
    expect((await run(['config', 'get', 'proxy.url'])).stdout).to.equal('http://proxy.corp:3128\n');
    expect(JSON.parse((await run(['show', '-j'])).stdout)).to.include({ httpsProxy: 'http://proxy.corp:3128', proxyBypassList: 'ARM,Arc' });
    expect((await run(['config', 'set', 'proxy.bypass', 'Everything'])).stderr).to.include('not a valid value');
    expect((await run(['config', 'set', 'proxy.colour', 'x'])).stderr).to.include('not a valid configuration property');
    await run(['config', 'clear', 'proxy.url']);
    await run(['config', 'clear', 'proxy.bypass']);
    expect(JSON.parse((await run(['show', '-j'])).stdout)).to.include({ httpsProxy: '', proxyBypassList: '' });
    expect(readdirSync(tmp), 'no settings file once all are cleared').to.deep.equal([]);
  });

  it('rejects unknown and missing flags like the real CLI', async () => {
    const unknown = await run(['connect', ...base('x'), '--bogus', '1']);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.include('unknown flag: --bogus');
    const missing = await run(['connect', '--resource-group', 'rg', '--tenant-id', TENANT, '--access-token', 'operator-token']);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.include('required flag(s) "location", "subscription-id" not set');
    const badCloud = await run(['connect', ...base('x'), '--access-token', 'operator-token', '--cloud', 'AzurePublicCloud']);
    expect(badCloud.code).to.equal(1);
    expect(badCloud.stderr).to.include('invalid cloud');
  });

  it('connect with a --config file (no secret on argv) -> show -j -> disconnect', async () => {
    const cfg = join(tmp, 'connect.json');
    writeFileSync(cfg, JSON.stringify({ 'service-principal-id': SP.clientId, 'service-principal-secret': SP.clientSecret }), { mode: 0o600 });
    const c = await run(['connect', ...base('node-cfg'), '--tags', 'a=b', '--correlation-id', 'corr-1', '--config', cfg]);
    expect(c.code, c.stderr).to.equal(0);
    const saved = JSON.parse(readFileSync(state, 'utf8'));
    expect(saved.secretsOnArgv).to.deep.equal([]);
    expect(saved.authMode).to.equal('service-principal-secret');
    const m = arm.machine('node-cfg')!;
    expect(m.principalId).to.equal(saved.principalId);
    expect(m.tags).to.deep.equal({ a: 'b' });
    expect(entra.isIssued(arm.requestsTo('/__fake/machines/', 'PUT').at(-1)!.bearer!)).to.equal(true);

    const show = JSON.parse((await run(['show', '-j'])).stdout);
    expect(show).to.include({
      status: 'Connected',
      resourceName: 'node-cfg',
      resourceGroup: 'rg',
      subscriptionId: SUB,
      tenantId: TENANT,
      location: 'eastus',
      cloud: 'AzureCloud',
      correlationId: 'corr-1',
    });
    expect(show.resourceId).to.equal(`/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/node-cfg`);
    expect((await run(['connect', ...base('node-cfg'), '--config', cfg])).stderr).to.include('already connected');

    const d = await run(['disconnect', '--config', cfg]);
    expect(d.code, d.stderr).to.equal(0);
    expect(arm.machine('node-cfg')).to.equal(undefined);
    expect(JSON.parse((await run(['show', '--json'])).stdout).status).to.equal('Disconnected');
  });

  it('records secrets passed on argv, and fails on bad credentials or a 403', async () => {
    const onArgv = await run(['connect', ...base('node-argv'), '--service-principal-id', SP.clientId, '--service-principal-secret', SP.clientSecret]);
    expect(onArgv.code, onArgv.stderr).to.equal(0);
    const saved = JSON.parse(readFileSync(state, 'utf8'));
    expect(saved.secretsOnArgv).to.deep.equal(['service-principal-secret']);
    expect(saved.argv).to.not.include(SP.clientSecret);
    rmSync(state);

    const bad = await run(['connect', ...base('node-bad'), '--service-principal-id', SP.clientId, '--service-principal-secret', 'nope']);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.include('AZCM0041').and.include('AADSTS7000215');

    arm.inject({ pathMatch: '/__fake/machines/', status: 403 });
    const denied = await run(['connect', ...base('node-403'), '--access-token', 'operator-token']);
    expect(denied.code).to.equal(1);
    expect(denied.stderr).to.include('AZCM0042').and.include('AuthorizationFailed');
    expect(arm.machine('node-403')).to.equal(undefined);
  });
});
