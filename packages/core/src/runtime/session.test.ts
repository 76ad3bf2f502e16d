import { API_VERSION } from '@flexnode/sdk';
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/index.js';
import type { PluginSource } from '../plugins/index.js';
import { Session } from './session.js';

const SDK = import.meta.resolve('@flexnode/sdk');

/**
 * A plugin on disk whose steps each write one file (and journal a custom record), like a third party's: `extra`
 * adds to each step's definition (e.g. an `after` nothing provides, which leaves the plugin out).
 */
async function filePlugin(dir: string, name: string, ids: string[], extra = '', version = '1.0.0'): Promise<PluginSource> {
  // One folder per version: a module once imported stays cached in this process.
  const root = join(dir, `${name.replace(/[@/]/g, '_')}-${version}`);
  await mkdir(root, { recursive: true });
  await writeFile(join(root, 'package.json'), JSON.stringify({ name, version, type: 'module', flexnode: { plugin: './plugin.js' } }));
  const step = (id: string) => `defineStep({ id: '${id}', title: '${id}', ${extra}
    inject: { host: Tokens.Host },
    create: ({ host }) => ({
      check: async () => ((await host.files.readText('/etc/${id}')) === 'x' ? ok() : missing('absent')),
      install: async () => { await host.files.write('/etc/${id}', 'x'); await host.changes.record('${id}-record', { made: true }); },
      uninstall: async () => { await host.changes.revert(); await host.changes.forget('${id}-record'); },
    }) })`;
  await writeFile(
    join(root, 'plugin.js'),
    `import { defineStep, ok, missing, Tokens } from '${SDK}';\nexport default { name: '${name}', apiVersion: ${API_VERSION}, steps: [${ids.map(step).join(', ')}] };\n`,
  );
  return { name, version, root, kind: 'user' };
}

describe('session: a plugin left out never stops the others, and unbootstrap always works', function () {
  this.timeout(20_000);
  let dir: string;
  let root: string;
  let configPath: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flexnode-session-'));
    root = join(dir, 'root');
    await mkdir(join(root, 'etc'), { recursive: true });
    configPath = join(dir, 'config.json');
    const cluster = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c';
    await writeFile(
      configPath,
      JSON.stringify({
        azure: {
          subscriptionId: '00000000-0000-0000-0000-000000000001',
          tenantId: '00000000-0000-0000-0000-000000000002',
          targetCluster: { resourceId: cluster },
        },
      }),
    );
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const run = async <T>(command: string, sources: PluginSource[], fn: (s: Session) => Promise<T>, plugins?: Record<string, string>) => {
    const config = await loadConfig(configPath);
    if (plugins) config.config.plugins = plugins;
    const session = await Session.open({ command, config, root, sources });
    try {
      return await fn(session);
    } finally {
      await session.close();
    }
  };

  it('status is unhealthy while a plugin is left out; bootstrap keeps its work; unbootstrap undoes it from the journal', async () => {
    const good = await filePlugin(dir, '@test/good', ['good.step']);
    const gpu = await filePlugin(dir, '@test/gpu', ['gpu.step']);
    const installed = await run('bootstrap', [good, gpu], (s) => s.bootstrap());
    expect(installed.ok).to.equal(true);
    expect(await run('status', [good, gpu], (s) => s.status())).to.include({ ok: true });

    // The plugin is updated to a version that needs something nobody provides: it is left out.
    const broken = await filePlugin(dir, '@test/gpu', ['gpu.step'], "after: ['gpu-driver'],", '1.1.0');
    const status = await run('status', [good, broken], (s) => s.status());
    expect(status.ok, 'unhealthy while a plugin is left out').to.equal(false);
    expect(status.results.map((r) => `${r.id}:${r.outcome}`)).to.deep.equal(['good.step:healthy']);

    // A bootstrap does not undo what a plugin left out did (it may only be broken for now).
    const again = await run('bootstrap', [good, broken], (s) => s.bootstrap());
    expect(again.ok).to.equal(true);
    expect(again.removed).to.deep.equal([]);
    expect(existsSync(join(root, 'etc/gpu.step'))).to.equal(true);

    // unbootstrap undoes both: the good plugin with its own code, the left-out one from the journal, its
    // custom record dropped with a note.
    const undone = await run('unbootstrap', [good, broken], (s) => s.unbootstrap());
    expect(undone.ok).to.equal(true);
    const byId = Object.fromEntries(undone.results.map((r) => [r.id, r]));
    expect(byId['good.step']).to.deep.include({ outcome: 'removed' });
    expect(byId['good.step']!.notes).to.equal(undefined);
    expect(byId['gpu.step']).to.deep.include({ outcome: 'removed' });
    expect(byId['gpu.step']!.notes).to.deep.equal([
      `@test/gpu's "gpu.step-record" journal record cannot be undone without the plugin's code: dropped; check by hand what it stood for`,
    ]);
    expect(existsSync(join(root, 'etc/gpu.step'))).to.equal(false);
    expect(existsSync(join(root, 'etc/good.step'))).to.equal(false);
    expect(existsSync(join(root, 'var/lib/flexnode')), 'nothing left to undo: the state goes too').to.equal(false);
  });

  it('bootstrap and plan refuse wrong plugin choices (exit 2, nothing changed); status is unhealthy; unbootstrap works', async () => {
    const good = await filePlugin(dir, '@test/good', ['good.step']);
    const choices = { 'good-thing': '@test/good' };
    for (const command of ['bootstrap', 'plan'] as const) {
      const error = await run(command, [good], (s): Promise<unknown> => (command === 'bootstrap' ? s.bootstrap() : s.plan()), choices).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, command).to.have.property('exitCode', 2);
      expect((error as Error).message).to.contain('plugins.good-thing: "good-thing" is not a capability any plugin provides');
    }
    expect(existsSync(join(root, 'etc/good.step'))).to.equal(false);
    expect(existsSync(join(root, 'var/lib/flexnode'))).to.equal(false);
    expect(await run('status', [good], (s) => s.status(), choices)).to.include({ ok: false });
    expect(await run('unbootstrap', [good], (s) => s.unbootstrap(), choices)).to.include({ ok: true });
    expect(JSON.parse(await readFile(configPath, 'utf8'))).to.not.have.property('plugins');
  });
});
