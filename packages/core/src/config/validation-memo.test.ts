import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@flexnode/sdk';
import { loadConfig } from './load.js';
import { fullConfig } from './valid-config.fixture.js';
import { ValidationMemo } from './validation-memo.js';

describe('config validation memo: the last pass, by hash', () => {
  let dir: string;
  let memoDir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flexnode-memo-'));
    memoDir = join(dir, 'cache');
    await import('node:fs/promises').then((fs) => fs.mkdir(memoDir, { mode: 0o700 }));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  const load = (file: string) => loadConfig(file, { allowPlaceholders: true, env: {}, memoDir });
  const memoFile = () => join(memoDir, 'valid-config.sha256');

  it('records a pass as a 0600 hash that holds nothing of the config, and trusts it for that exact text only', async () => {
    const text = JSON.stringify(fullConfig(), null, 2);
    const file = join(dir, 'config.json');
    await writeFile(file, text, { mode: 0o600 });
    await load(file);
    const recorded = await readFile(memoFile(), 'utf8');
    expect(recorded).to.match(/^[0-9a-f]{64}$/);
    expect(recorded).to.equal(await ValidationMemo.key(text, []));
    expect((await stat(memoFile())).mode & 0o777).to.equal(0o600);

    // The same text loads again; one more space is another text, validated (and passing, recorded in its place).
    await load(file);
    await writeFile(file, `${text} `, { mode: 0o600 });
    await load(file);
    expect(await readFile(memoFile(), 'utf8')).to.equal(await ValidationMemo.key(`${text} `, []));
  });

  it('never records a failure, and a recorded pass of another text lets no invalid config through', async () => {
    const valid = join(dir, 'valid.json');
    await writeFile(valid, JSON.stringify(fullConfig()), { mode: 0o600 });
    await load(valid);
    const before = await readFile(memoFile(), 'utf8');
    const invalid = join(dir, 'invalid.json');
    await writeFile(invalid, JSON.stringify({ ...fullConfig(), node: { name: 'UPPER_case' } }), { mode: 0o600 });
    const error = await load(invalid).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.path)).to.include('node.name');
    expect(await readFile(memoFile(), 'utf8')).to.equal(before);
  });

  it('is what decides: a recorded key passes its text without the schema (so the directory must be private)', async () => {
    const text = JSON.stringify({ ...fullConfig(), node: { name: 'UPPER_case' } });
    const file = join(dir, 'config.json');
    await writeFile(file, text, { mode: 0o600 });
    await writeFile(memoFile(), (await ValidationMemo.key(text, []))!, { mode: 0o600 });
    expect((await load(file)).config.node?.name).to.equal('UPPER_case');
    // The key covers the ignored paths too: the same text with other placeholders is validated.
    expect(await ValidationMemo.key(text, ['azure.tenantId'])).to.not.equal(await ValidationMemo.key(text, []));
  });

  it('a missing or unreadable record is a miss, and a directory it cannot write costs only time', async () => {
    const file = join(dir, 'config.json');
    await writeFile(file, JSON.stringify(fullConfig()), { mode: 0o600 });
    const result = await loadConfig(file, { allowPlaceholders: true, env: {}, memoDir: join(dir, 'absent') });
    expect(result.config.azure.tenantId).to.equal(fullConfig().azure.tenantId);
  });
});
