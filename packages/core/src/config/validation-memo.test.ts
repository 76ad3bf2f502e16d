import { expect } from 'chai';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '@flexnode/sdk';
import { loadConfig } from './load.js';
import { fullConfig } from './valid-config.fixture.js';
import { fileIdentity, SETTLE_MS, ValidationMemo } from './validation-memo.js';

describe('config validation memo: the last pass, by file identity', () => {
  let dir: string;
  let memoDir: string;
  /** A valid config and an invalid one of the same size, both left alone longer than SETTLE_MS. */
  let settled: { valid: string; invalid: string; validText: string };
  const invalidConfig = () => ({ ...fullConfig(), node: { name: 'UPPER_case' } });
  const sameSize = (a: string, b: string) => (a.length >= b.length ? [a, b.padEnd(a.length)] : [a.padEnd(b.length), b]);

  before(async function () {
    this.timeout(SETTLE_MS + 5000);
    dir = await mkdtemp(join(tmpdir(), 'flexnode-memo-'));
    const [validText, invalidText] = sameSize(JSON.stringify(fullConfig(), null, 2), JSON.stringify(invalidConfig(), null, 2));
    settled = { valid: join(dir, 'valid.json'), invalid: join(dir, 'invalid.json'), validText: validText! };
    await writeFile(settled.valid, validText!, { mode: 0o600 });
    await writeFile(settled.invalid, invalidText!, { mode: 0o600 });
    await sleep(SETTLE_MS + 100);
  });
  after(() => rm(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    memoDir = join(dir, `cache-${Math.random().toString(36).slice(2)}`);
    await mkdir(memoDir, { mode: 0o700 });
  });
  const load = (file: string) => loadConfig(file, { allowPlaceholders: true, env: {}, memoDir });
  const memoFile = () => join(memoDir, 'valid-config');
  const recorded = () => readFile(memoFile(), 'utf8').catch(() => undefined);
  const identityOf = async (file: string) => {
    const st = await stat(file, { bigint: true });
    return fileIdentity(st, st)!;
  };

  it('records a pass of a settled file as a 0600 key that holds nothing of the config, and trusts it for that file', async () => {
    await load(settled.valid);
    const key = await recorded();
    expect(key).to.equal(await ValidationMemo.key(await identityOf(settled.valid), []));
    expect((await stat(memoFile())).mode & 0o777).to.equal(0o600);
    for (const value of [fullConfig().azure.tenantId, fullConfig().azure.subscriptionId]) expect(key).to.not.include(value);
    await load(settled.valid);
    expect(await recorded()).to.equal(key);
  });

  it('validates a file written since, even at the same size and inode, and does not record a file changed just now', async () => {
    const file = join(dir, 'rewritten.json');
    await writeFile(file, settled.validText, { mode: 0o600 });
    await load(file);
    expect(await recorded(), 'changed less than SETTLE_MS ago').to.equal(undefined);

    // A recorded pass for the file as it was, then an invalid text of the same size written in its place.
    await writeFile(memoFile(), (await ValidationMemo.key(await identityOf(file), []))!, { mode: 0o600 });
    const inode = (await stat(file)).ino;
    const [, invalidText] = sameSize(settled.validText, JSON.stringify(invalidConfig(), null, 2));
    await writeFile(file, invalidText!);
    expect((await stat(file)).ino).to.equal(inode);
    const error = await load(file).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.path)).to.include('node.name');
  });

  it('never records a failure', async () => {
    await load(settled.valid);
    const before = await recorded();
    const error = await load(settled.invalid).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigError);
    expect(await recorded()).to.equal(before);
  });

  it('is what decides: a recorded key passes its file without the schema (so the directory must be private)', async () => {
    const identity = await identityOf(settled.invalid);
    await writeFile(memoFile(), (await ValidationMemo.key(identity, []))!, { mode: 0o600 });
    expect((await load(settled.invalid)).config.node?.name).to.equal('UPPER_case');
    // The key covers the ignored paths too.
    expect(await ValidationMemo.key(identity, ['azure.tenantId'])).to.not.equal(await ValidationMemo.key(identity, []));
  });

  it('has no identity for a file that changed between the two looks of one read', async () => {
    const st = await stat(settled.valid, { bigint: true });
    expect(fileIdentity(st, { ...st, ctimeNs: st.ctimeNs + 1n } as typeof st)).to.equal(undefined);
    expect(fileIdentity(st, st, Number(st.ctimeMs) + SETTLE_MS + 1)?.settled).to.equal(true);
    expect(fileIdentity(st, st, Number(st.ctimeMs) + SETTLE_MS - 1)?.settled).to.equal(false);
  });

  it('a missing or unreadable record is a miss, and a directory it cannot write costs only time', async () => {
    const result = await loadConfig(settled.valid, { allowPlaceholders: true, env: {}, memoDir: join(dir, 'absent') });
    expect(result.config.azure.tenantId).to.equal(fullConfig().azure.tenantId);
  });
});
