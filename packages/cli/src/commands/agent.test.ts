import { expect } from 'chai';
import { Config, Parser } from '@oclif/core';
import { agentFlags, listPluginSources, parseAgentArgv } from '@flexnode/core/agent';
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commonFlags } from '../base/flags.js';
import { runCli } from '../test/run-cli.js';
import Agent from './agent.js';

const CLI_ROOT = fileURLToPath(new URL('../../', import.meta.url));

// bin/run.js starts `flexnode agent` without oclif: its flag parsing and plugin listing must not drift from the
// oclif command's.
describe('flexnode agent: the fast path (bin/run.js, no oclif) and the oclif command agree', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'flexnode-agent-cli-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("the command's flags are core's agentFlags, and --config/--root are the CLI's common ones", () => {
    const flags = { ...Agent.baseFlags, ...Agent.flags } as Record<
      string,
      { char?: string; env?: string; default?: unknown; multiple?: boolean; hidden?: boolean; delimiter?: string }
    >;
    expect(Object.keys(flags).sort()).to.deep.equal(Object.keys(agentFlags).sort());
    for (const [name, spec] of Object.entries(agentFlags) as [string, Record<string, unknown>][]) {
      const f = flags[name]!;
      expect({ char: f.char, env: f.env, default: f.default, multiple: Boolean(f.multiple), hidden: Boolean(f.hidden) }, name).to.deep.equal({
        char: spec.char,
        env: spec.env,
        default: spec.default,
        multiple: Boolean(spec.multiple),
        hidden: Boolean(spec.hidden),
      });
    }
    for (const name of ['config', 'root'] as const) {
      const common = commonFlags[name] as { char?: string; env?: string; default?: unknown };
      expect({ char: flags[name]!.char, env: flags[name]!.env, default: flags[name]!.default }, name).to.deep.equal({
        char: common.char,
        env: common.env,
        default: common.default,
      });
    }
  });

  it('parses argument lines as oclif does, and leaves anything else to oclif', async () => {
    const lines = [
      [],
      ['--config', '/c.json', '--root', '/r'],
      ['-c', '/c.json', '--only=container-runtime,cni', '--only', 'kube.kubelet'],
      ['--interval-ms', '100', '--max-cycles=0', '--root=/x'],
    ];
    const env = { FLEXNODE_CONFIG: '/env.json' };
    for (const argv of lines) {
      const saved = process.env.FLEXNODE_CONFIG;
      process.env.FLEXNODE_CONFIG = env.FLEXNODE_CONFIG;
      try {
        const { flags } = await Parser.parse(argv, { flags: { ...Agent.baseFlags, ...Agent.flags }, strict: true });
        expect(parseAgentArgv(argv, env), argv.join(' ')).to.deep.equal(JSON.parse(JSON.stringify(flags)));
      } finally {
        if (saved === undefined) delete process.env.FLEXNODE_CONFIG;
        else process.env.FLEXNODE_CONFIG = saved;
      }
    }
    for (const argv of [['--help'], ['install-service'], ['--interval-ms', '5'], ['--interval-ms', 'x'], ['--bogus'], ['--config']]) {
      expect(parseAgentArgv(argv, {}), argv.join(' ')).to.equal(undefined);
    }
  });

  it("lists the same plugins as oclif's Config: bundled, user-installed (data dir) and linked", async () => {
    const dataDir = join(dir, 'data');
    const plugin = async (root: string, name: string) => {
      await mkdir(root, { recursive: true });
      await writeFile(join(root, 'package.json'), JSON.stringify({ name, version: '1.2.3', type: 'module', oclif: {}, flexnode: { plugin: './plugin.js' } }));
    };
    await plugin(join(dataDir, 'node_modules/@org/plugin-user'), '@org/plugin-user');
    await plugin(join(dir, 'linked'), '@org/plugin-linked');
    // A plugin's own plugins (its `oclif.plugins` among its dependencies) are loaded after it, of its kind.
    await plugin(join(dataDir, 'node_modules/@org/plugin-child'), '@org/plugin-child');
    const parent = join(dataDir, 'node_modules/@org/plugin-user/package.json');
    await writeFile(
      parent,
      JSON.stringify({ ...JSON.parse(await readFile(parent, 'utf8')), dependencies: { '@org/plugin-child': '^1' }, oclif: { plugins: ['@org/plugin-child'] } }),
    );
    await writeFile(
      join(dataDir, 'package.json'),
      JSON.stringify({
        private: true,
        oclif: {
          schema: 1,
          plugins: [
            { name: '@org/plugin-user', type: 'user', tag: 'latest' },
            { name: '@org/plugin-linked', type: 'link', root: join(dir, 'linked') },
          ],
        },
        dependencies: { '@org/plugin-user': '^1.2.3' },
      }),
    );
    const saved = process.env.FLEXNODE_DATA_DIR;
    process.env.FLEXNODE_DATA_DIR = dataDir;
    let config: Config;
    try {
      config = await Config.load({ root: CLI_ROOT });
    } finally {
      if (saved === undefined) delete process.env.FLEXNODE_DATA_DIR;
      else process.env.FLEXNODE_DATA_DIR = saved;
    }
    const norm = async (list: { name: string; version: string; root: string; kind: string }[]) =>
      (await Promise.all(list.map(async (p) => `${p.name}@${p.version} ${p.kind} ${await realpath(p.root)}`))).sort();
    const viaOclif = config
      .getPluginsList()
      .filter((p) => p.type !== 'core' || p.name !== config.pjson.name)
      .map((p) => ({ name: p.name, version: p.version, root: p.root, kind: p.type === 'user' ? 'user' : p.type === 'link' ? 'linked' : 'bundled' }));
    const mine = await listPluginSources({ cliRoot: CLI_ROOT, dataDir });
    expect(await norm(mine)).to.deep.equal(await norm(viaOclif));
    expect(mine.map((p) => `${p.name}:${p.kind}`)).to.include.members([
      '@org/plugin-user:user',
      '@org/plugin-child:user',
      '@org/plugin-linked:linked',
      '@flexnode/plugin-containerd:bundled',
    ]);
  });

  it('bin/run.js: `agent --help` still goes to oclif; a config that cannot be loaded fails like the oclif command', async () => {
    const help = await runCli(['agent', '--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.match(/USAGE[\s\S]*flexnode agent/);
    const missing = join(dir, 'absent.json');
    const fast = await runCli(['agent', '--config', missing, '--root', dir]);
    expect(fast.code).to.not.equal(0);
    expect(fast.stderr).to.include(missing);
    expect(fast.stderr).to.match(/^Error: /m);
  });
});
