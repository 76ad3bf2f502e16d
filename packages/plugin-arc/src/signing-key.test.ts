import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryHost } from '@flexnode/sdk/testing';
import type { AgentRepository } from './agent-source.js';
import { APT_HELPER, checkSigningKey, fetchSigningKey, isArmored, parseKeyListing } from './signing-key.js';

const hasGpg = spawnSync('gpg', ['--version']).status === 0;

/** A GNUPGHOME with fresh keys, exported as files: what a repository owner publishes. */
function makeKeys(dir: string): { one: string; two: string; fingerprint: string } {
  const home = join(dir, 'owner');
  execFileSync('mkdir', ['-m', '0700', home]);
  const gpg = (...args: string[]) =>
    execFileSync('gpg', ['--batch', '--no-tty', '--passphrase', '', ...args], {
      env: { ...process.env, GNUPGHOME: home },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  gpg('--quick-gen-key', 'Repo signing <repo@example.test>', 'ed25519', 'sign', 'never');
  const fingerprint = /^fpr:(?:[^:]*:){8}([0-9A-F]+):/m.exec(gpg('--with-colons', '--list-keys').toString())![1]!;
  const one = join(dir, 'one.asc');
  execFileSync('sh', ['-c', `GNUPGHOME=${home} gpg --batch --armor --export > ${one}`]);
  gpg('--quick-gen-key', 'Someone else <else@example.test>', 'ed25519', 'sign', 'never');
  const two = join(dir, 'two.asc');
  execFileSync('sh', ['-c', `GNUPGHOME=${home} gpg --batch --armor --export > ${two}`]);
  return { one, two, fingerprint };
}

const repo = (keyUrl: string, fingerprint: string): AgentRepository => ({
  url: 'https://mirror.test/ubuntu/22.04/prod',
  suite: 'jammy',
  component: 'main',
  keyUrl,
  fingerprint,
  arch: 'amd64',
});

describe('the repository signing key (checked with gpg before it is trusted)', () => {
  let dir = '';
  let keys: ReturnType<typeof makeKeys>;
  before(function () {
    if (!hasGpg) {
      console.log('      SKIP: gpg is not installed (apt-get install gpg)');
      this.skip();
    }
    this.timeout(30_000);
    dir = mkdtempSync(join(tmpdir(), 'arc-key-'));
    keys = makeKeys(dir);
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  /** A machine whose apt downloader serves `served` and whose gpg is the real one. */
  const machine = (served: Record<string, string>) => {
    const host = new MemoryHost();
    const seen: string[][] = [];
    host.onExec(APT_HELPER, (args) => {
      seen.push([...args]);
      const [url, target] = args.slice(-2) as [string, string];
      if (!served[url]) return { exitCode: 100, stdout: '', stderr: `E: Failed to fetch ${url}  404  Not Found` };
      copyFileSync(served[url], target);
      return { exitCode: 0, stdout: '', stderr: '' };
    });
    host.onExec('gpg', (args, options) => {
      const r = spawnSync('gpg', [...args], { env: { ...process.env, ...options.env }, encoding: 'utf8' });
      return { exitCode: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
    });
    return { host, seen };
  };

  it('accepts the one key with the expected fingerprint, and returns its bytes; nothing is written', async () => {
    const { host, seen } = machine({ 'https://keys.test/one.asc': keys.one });
    const key = await fetchSigningKey(
      host.forStep('arc.agent'),
      repo('https://keys.test/one.asc', keys.fingerprint),
      ['-o', 'Acquire::https::Proxy=http://proxy:3128'],
      [],
    );
    expect(key.equals(readFileSync(keys.one))).to.equal(true);
    expect(isArmored(key)).to.equal(true);
    expect(seen[0]).to.include.members(['-o', 'Acquire::https::Proxy=http://proxy:3128', 'download-file', 'https://keys.test/one.asc']);
    expect(host.ops).to.deep.equal([]);
  });

  it('refuses another key, a file with a second key in it, a missing key, and something that is no key', async () => {
    const other = '0'.repeat(40);
    const junk = join(dir, 'junk.html');
    writeFileSync(junk, '<html>a captive portal</html>\n');
    const { host } = machine({ 'https://k/one.asc': keys.one, 'https://k/two.asc': keys.two, 'https://k/junk': junk });
    const refusal = (url: string, fingerprint: string) =>
      fetchSigningKey(host.forStep('arc.agent'), repo(url, fingerprint), [], []).then(
        () => expect.fail('accepted'),
        (e: Error & { code: string }) => e,
      );
    const wrong = await refusal('https://k/one.asc', other);
    expect(wrong.code).to.equal('ARC_REPO_KEY_REFUSED');
    expect(wrong.message).to.include(`its fingerprint is ${keys.fingerprint}, not ${other}`).and.include('nothing was installed');
    expect((await refusal('https://k/two.asc', keys.fingerprint)).message).to.include('holds 2 keys');
    expect((await refusal('https://k/gone.asc', keys.fingerprint)).message)
      .to.include('could not download')
      .and.include('404');
    expect((await refusal('https://k/junk', keys.fingerprint)).message).to.match(/not an OpenPGP key|holds 0 keys/);
    expect(host.ops).to.deep.equal([]);
  });

  it('reads primary keys and their own fingerprints from a colon listing; revoked keys are refused', () => {
    const listing = [
      'pub:r:2048:1:EB3E94ADBE1229CF:1446664935:::-:::scSC::::::23::0:',
      'fpr:::::::::BC528686B50D79E339D3721CEB3E94ADBE1229CF:',
      'uid:r::::1446664935::B8E3::Microsoft (Release signing) <gpgsecurity@microsoft.com>::::::::::0:',
      'sub:r:2048:1:1111111111111111:1446664935::::::e::::::23:',
      'fpr:::::::::2222222222222222222222221111111111111111:',
    ].join('\n');
    const parsed = parseKeyListing(listing);
    expect(parsed).to.deep.equal([
      { fingerprint: 'BC528686B50D79E339D3721CEB3E94ADBE1229CF', validity: 'r', userIds: ['Microsoft (Release signing) <gpgsecurity@microsoft.com>'] },
    ]);
    expect(() => checkSigningKey(parsed, 'BC528686B50D79E339D3721CEB3E94ADBE1229CF', 'k')).to.throw(/revoked/);
  });
});
