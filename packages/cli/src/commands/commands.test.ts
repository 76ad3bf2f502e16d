import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { badConfigs } from '@flexnode/core/test-fixtures';
import { inBatches, REPO, runCli } from '../test/run-cli.js';
import { treeSnapshot } from '../test/tree.js';

const example = join(REPO, 'examples/config.json');

describe('flexnode CLI (built, run as a separate process)', function () {
  this.timeout(180_000);
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'flexnode-cli-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('--version and version --json name the CLI, Node and every bundled plugin with its source', async () => {
    const short = await runCli(['--version']);
    expect(short.code).to.equal(0);
    expect(short.stdout).to.match(/@flexnode\/cli\/0\.1\.0 linux-\w+ node-v\d+/);
    const long = await runCli(['version', '--json']);
    const data = JSON.parse(long.stdout);
    expect(data.node).to.equal(process.version);
    const names = data.plugins
      .filter((p: { flexnodePlugin: boolean }) => p.flexnodePlugin)
      .map((p: { name: string; source: string }) => `${p.name}:${p.source}`);
    expect(names).to.include.members(['@flexnode/plugin-containerd:bundled', '@flexnode/plugin-kube:bundled']);
  });

  it('steps lists the steps in dependency order with their providers', async () => {
    const r = await runCli(['steps', '--json', '--config', example]);
    expect(r.code, r.stderr).to.equal(0);
    const data = JSON.parse(r.stdout);
    const order: string[] = data.steps.map((s: { id: string }) => s.id);
    expect(order.indexOf('kube.kernel-modules')).to.be.lessThan(order.indexOf('kube.sysctl'));
    expect(data.capabilities.map((c: { capability: string }) => c.capability)).to.include('container-runtime');
  });

  it('config validate accepts the upstream example and lists its placeholders', async () => {
    const r = await runCli(['config', 'validate', '--config', example]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('valid').and.contain('azure.subscriptionId');
  });

  it('rejects every bad config with its field path and exit code 2, writing nothing', async () => {
    const corpus = badConfigs();
    expect(corpus.length).to.be.at.least(30);
    const results = await inBatches(corpus, 4, async (bad) => {
      const root = join(dir, bad.name.replace(/\W+/g, '-'));
      await mkdir(root);
      const file = join(dir, `${bad.name.replace(/\W+/g, '-')}.json`);
      await writeFile(file, JSON.stringify(bad.config));
      const r = await runCli(['bootstrap', '--config', file, '--root', root]);
      return { bad, r, written: Object.keys(await treeSnapshot(root)) };
    });
    for (const { bad, r, written } of results) {
      expect(r.code, `${bad.name}: ${r.stderr}`).to.equal(2);
      expect(r.stderr, bad.name).to.contain(`${bad.path}:`);
      expect(written, `${bad.name} wrote files`).to.deep.equal([]);
    }
  });

  it('config validate checks the plugins map: a misspelt capability and an unknown plugin, with a did you mean (exit 2)', async () => {
    const config = JSON.parse(await readFile(example, 'utf8'));
    config.plugins = { cnii: '@flexnode/plugin-cni', 'container-runtime': '@flexnode/plugin-containerdd' };
    const file = join(dir, 'choices.json');
    await writeFile(file, JSON.stringify(config));
    const r = await runCli(['config', 'validate', '--config', file]);
    expect(r.code, r.stdout + r.stderr).to.equal(2);
    expect(r.stderr).to.contain('plugins.cnii: "cnii" is not a capability any plugin provides; did you mean "cni"?');
    expect(r.stderr).to.contain('flexnode steps lists the capabilities and who provides them');
    expect(r.stderr).to.contain(
      'plugins.container-runtime: "@flexnode/plugin-containerdd" is not an installed plugin; did you mean "@flexnode/plugin-containerd"?',
    );
    const json = await runCli(['config', 'validate', '--json', '--config', file]);
    expect(json.code).to.equal(2);
    expect(JSON.parse(json.stdout).error.issues.map((i: { path: string }) => i.path)).to.deep.equal(['plugins.cnii', 'plugins.container-runtime']);
    // The choices as they should be pass.
    config.plugins = { cni: '@flexnode/plugin-cni' };
    await writeFile(file, JSON.stringify(config));
    expect((await runCli(['config', 'validate', '--config', file])).code).to.equal(0);
  });

  it('config validate and bootstrap refuse what the API server would refuse on the Node (labels, taints) before any change', async () => {
    const config = JSON.parse(await readFile(await validConfig(dir), 'utf8'));
    config.node = { labels: { 'kubernetes.io/role': 'edge' }, taints: ['k=v:NoSchedule', 'k=w:NoSchedule'] };
    const file = join(dir, 'node.json');
    await writeFile(file, JSON.stringify(config));
    const r = await runCli(['config', 'validate', '--json', '--config', file]);
    expect(r.code, r.stdout + r.stderr).to.equal(2);
    const paths = JSON.parse(r.stdout).error.issues.map((i: { path: string }) => i.path);
    expect(paths).to.include.members(['node.labels["kubernetes.io/role"]', 'node.taints[1]']);
    // Their fix is in their own messages: no hint about plugins choices (that one is for a "plugins" issue).
    expect(JSON.parse(r.stdout).error.hint).to.equal(undefined);
    const root = join(dir, 'root');
    await mkdir(root);
    const before = await treeSnapshot(root);
    const run = await runCli(['bootstrap', '--config', file, '--root', root]);
    expect(run.code, run.stdout + run.stderr).to.equal(2);
    expect(await treeSnapshot(root)).to.deep.equal(before);
  });

  it('upgrade: --to that is no version is bad input (exit 2); a machine that never joined is told to bootstrap (exit 1); nothing is written', async () => {
    const config = await validConfig(dir);
    const root = join(dir, 'root');
    await mkdir(root);
    const bad = await runCli(['upgrade', '--to', '1.31', '--config', config, '--root', root]);
    expect(bad.code, bad.stdout + bad.stderr).to.equal(2);
    expect(bad.stderr).to.contain('"1.31" is not a Kubernetes version');
    const fresh = await runCli(['upgrade', '--dry-run', '--json', '--config', config, '--root', root]);
    expect(fresh.code, fresh.stdout + fresh.stderr).to.equal(1);
    expect(JSON.parse(fresh.stdout).error).to.deep.include({ code: 'NOT_BOOTSTRAPPED', hint: 'run `flexnode bootstrap` first' });
    expect(await treeSnapshot(root)).to.deep.equal({});
  });

  it('offers shell completion of its commands and their flags (plugin-autocomplete)', async () => {
    const env = { FLEXNODE_CACHE_DIR: join(dir, 'cache'), FLEXNODE_DATA_DIR: join(dir, 'data'), FLEXNODE_CONFIG_DIR: join(dir, 'config') };
    const r = await runCli(['autocomplete', 'bash'], { env });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('flexnode autocomplete script bash');
    const functions = await readFile(join(dir, 'cache/autocomplete/functions/bash/flexnode.bash'), 'utf8');
    for (const line of ['bootstrap --json', 'plugins:install --json --config --force', 'unbootstrap --json']) expect(functions).to.contain(line);
  });

  it("--no-color is accepted by every command, its own and oclif's, and turns colour off like NO_COLOR", async () => {
    const env = { FORCE_COLOR: '1', TERM: 'xterm-256color', NO_COLOR: '' };
    const inspect = ['plugins', 'inspect', '@flexnode/plugin-cni'];
    expect((await runCli(inspect, { env })).stdout, 'coloured when forced').to.match(/\u001b\[/);
    for (const args of [['steps', '--json'], ['plugins'], inspect, ['version'], ['config', 'validate', '--config', example]]) {
      const r = await runCli([...args, '--no-color'], { env });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(0);
      expect(r.stdout + r.stderr, args.join(' ')).to.not.match(/\u001b\[/);
    }
  });

  it('reports a missing config, and JSON that does not parse, with exit code 2', async () => {
    const missing = await runCli(['config', 'validate', '--config', join(dir, 'nope.json')]);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/nope\.json does not exist/);
    await writeFile(join(dir, 'broken.json'), '{\n  "azure": {\n    "tenantId": "x",\n  }\n}\n');
    const broken = await runCli(['config', 'validate', '--config', join(dir, 'broken.json'), '--json']);
    expect(broken.code).to.equal(2);
    // Line, column and field; never the parser's own message, which quotes the text around the error.
    expect(JSON.parse(broken.stdout).error.message).to.match(/is not valid JSON: unexpected character at line 4, column 3, in azure$/);
  });

  it('--json with a flag line oclif refuses: one small {ok: false} document, code USAGE, exit 2 (the fast path and plugin commands too)', async () => {
    for (const argv of [
      ['status', '--json', '--bogus'],
      ['steps', '--json', 'extra'],
      ['config', 'validate', '--json', '--config'],
      ['token', '--json'],
      ['doctor', '--json', '--bogus'],
      // A line naming no command (oclif reads `status extra` as the command status:extra).
      ['nosuchcmd', '--json'],
      ['status', 'extra', '--json'],
    ]) {
      const r = await runCli(argv);
      expect(r.code, argv.join(' ')).to.equal(2);
      // One document (oclif's own carried its whole parse context: ~100 kB).
      expect(r.stdout.length, argv.join(' ')).to.be.below(400);
      const document = JSON.parse(r.stdout) as { ok: boolean; error: { code: string; message: string } };
      expect(document.ok, argv.join(' ')).to.equal(false);
      expect(document.error.code, argv.join(' ')).to.equal('USAGE');
      expect(document.error.message, argv.join(' ')).to.match(/flag|argument|Missing|command .* not found/i);
    }
    // Without --json, oclif's own message, unchanged.
    const text = await runCli(['nosuchcmd']);
    expect(text.code).to.equal(2);
    expect(text.stdout).to.equal('');
    expect(text.stderr).to.contain('command nosuchcmd not found');
  });

  it('refuses a real bootstrap while the config still has placeholders, and writes nothing', async () => {
    const r = await runCli(['bootstrap', '--config', example, '--root', dir]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('placeholders').and.contain('azure.tenantId');
    expect(await treeSnapshot(dir)).to.deep.equal({});
  });

  it('bootstrap --dry-run prints the plan and changes nothing under --root', async () => {
    // The example, with the preflight skipped (its probes would fail here: no route to Azure), and only the steps
    // whose checks need no Azure (with the example's placeholders, the Azure steps' checks refuse to run).
    const config = join(dir, 'example-skip-preflight.json');
    const example_ = JSON.parse(await readFile(example, 'utf8'));
    await writeFile(config, JSON.stringify({ ...example_, pluginConfig: { '@flexnode/plugin-kube': { skipPreflight: ['all'] } } }));
    const root = join(dir, 'root');
    const only = ['--only', 'container-runtime,kube.sysctl'];
    const r = await runCli(['bootstrap', '--dry-run', ...only, '--config', config, '--root', root]);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/write \/etc\/containerd\/config\.toml/);
    expect(r.stdout).to.match(/Nothing was changed/);
    expect(await treeSnapshot(root)).to.deep.equal({});
    const json = await runCli(['plan', '--json', ...only, '--config', config, '--root', root]);
    const plan = JSON.parse(json.stdout);
    expect(
      plan.changes.some((c: { action: string; target: string }) => c.action === 'write' && c.target === '/etc/sysctl.d/99-flexnode-kubernetes.conf'),
    ).to.equal(true);
  });

  it('plan exits 1 and shows a failing preflight as a failure, not as planned', async () => {
    // Endpoints that refuse at once: the preflight's probes fail the same way on every machine.
    const config = join(dir, 'unreachable.json');
    const example_ = JSON.parse(await readFile(example, 'utf8'));
    example_.azure.endpoints = { resourceManager: 'https://127.0.0.1:9/', authorityHost: 'https://127.0.0.1:9/' };
    example_.artifacts = { mirror: 'http://127.0.0.1:9/mirror' };
    await writeFile(config, JSON.stringify(example_));
    const r = await runCli(['plan', '--only', 'kube.preflight', '--config', config, '--root', join(dir, 'root')]);
    expect(r.code, r.stdout + r.stderr).to.equal(1);
    expect(r.stdout).to.match(/✗ kube\.preflight\s+failed in install \[@flexnode\/plugin-kube\]/);
    expect(r.stdout).to.contain('preflight check(s) failed').and.contain('azure-endpoint');
    expect(r.stdout).to.match(/plan: 1 step\(s\) FAILED \(kube\.preflight\)/);
    const json = await runCli(['plan', '--json', '--only', 'kube.preflight', '--config', config, '--root', join(dir, 'root')]);
    expect(json.code).to.equal(1);
    expect(JSON.parse(json.stdout).results[0]).to.deep.include({ id: 'kube.preflight', outcome: 'failed' });
  });

  it('plan names the steps it could not plan to the end (a step that needs Azure, with none reachable), in text and JSON', async () => {
    const config = join(dir, 'no-azure.json');
    const text = (await readFile(example, 'utf8'))
      .replaceAll('your-subscription-id', '11111111-2222-3333-4444-555555555555')
      .replace('your-tenant-id', '22222222-2222-3333-4444-555555555555')
      .replace('your-unique-node-name', 'edge-1')
      .replace('your-resource-group', 'rg-edge')
      .replace('your-rg', 'rg-aks')
      .replace('your-cluster', 'aks-1');
    const example_ = JSON.parse(text);
    example_.azure.endpoints = { resourceManager: 'https://127.0.0.1:9/', authorityHost: 'https://127.0.0.1:9/' };
    await writeFile(config, JSON.stringify(example_));
    const args = ['--only', 'kube.version', '--config', config, '--root', join(dir, 'root')];
    const r = await runCli(['plan', ...args]);
    expect(r.stdout).to.match(/plan: 1 step\(s\) could not be planned to the end \(kube\.version\)/);
    const json = JSON.parse((await runCli(['plan', '--json', ...args])).stdout);
    expect(json.incomplete).to.deep.equal(['kube.version']);
    expect(json.results.find((x: { id: string }) => x.id === 'kube.version')).to.deep.include({ outcome: 'planned' });
  });

  it('refuses a second run while another holds the lock, naming its pid', async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      await mkdir(join(dir, 'run/flexnode'), { recursive: true });
      await writeFile(
        join(dir, 'run/flexnode/flexnode.lock'),
        JSON.stringify({ pid: holder.pid, command: 'bootstrap', startedAt: new Date().toISOString(), hostname: 'test' }),
      );
      const config = await validConfig(dir);
      const r = await runCli(['bootstrap', '--config', config, '--root', dir]);
      expect(r.code, r.stderr).to.equal(3);
      expect(r.stderr).to.contain(String(holder.pid));
    } finally {
      holder.kill();
    }
  });
});

/** The upstream example with real-looking values where it holds placeholders, written to `<dir>/config.json`. */
async function validConfig(dir: string): Promise<string> {
  const config = join(dir, 'config.json');
  const valid = JSON.parse(await readFile(example, 'utf8'));
  valid.azure.subscriptionId = valid.azure.tenantId = '11111111-2222-3333-4444-555555555555';
  valid.azure.arc.machineName = 'node-1';
  valid.azure.arc.resourceGroup = 'rg';
  valid.azure.targetCluster.resourceId =
    '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks';
  await writeFile(config, JSON.stringify(valid));
  return config;
}
