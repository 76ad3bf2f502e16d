// Validate early: a problem only a plugin can see (its pluginConfig section) is found by `config validate` and by
// `bootstrap` before the lock, the journal or the log exist (exit 2, the field named, the root untouched).
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fullConfig } from '@flexnode/core/test-fixtures';
import { runCli } from '../../test/run-cli.js';
import { treeSnapshot } from '../../test/tree.js';

describe('config validate and bootstrap: plugin settings checked before anything is written', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'flexnode-validate-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('a bad pluginConfig setting: exit 2 naming it from validate and bootstrap; nothing under --root', async () => {
    const config = fullConfig();
    config.agent.logDir = '/var/log/flexnode-validate-test';
    config.pluginConfig = { '@flexnode/plugin-kube': { readyTimeoutSeconds: 'soon' } };
    const file = join(dir, 'config.json');
    await writeFile(file, JSON.stringify(config), { mode: 0o600 });
    const root = join(dir, 'root');
    await (await import('node:fs/promises')).mkdir(root);
    const before = JSON.stringify(await treeSnapshot(root));
    for (const args of [['config', 'validate'], ['bootstrap']]) {
      const r = await runCli([...args, '--config', file, '--root', root]);
      expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).to.equal(2);
      expect(r.stderr, args.join(' ')).to.include('pluginConfig["@flexnode/plugin-kube"].readyTimeoutSeconds');
    }
    expect(JSON.stringify(await treeSnapshot(root)), 'the root changed').to.equal(before);
    expect(existsSync(join(root, 'var/lib/flexnode'))).to.equal(false);
    expect(existsSync(join(root, 'var/log/flexnode-validate-test'))).to.equal(false);
  });
});
