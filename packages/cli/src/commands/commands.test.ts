import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { badConfigs } from '../../../core/dist/config/bad-configs.fixture.js';
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
    const names = data.plugins.filter((p: { flexnodePlugin: boolean }) => p.flexnodePlugin).map((p: { name: string; source: string }) => `${p.name}:${p.source}`);
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
    const results = await inBatches(corpus, 4, async (bad, ) => {
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

  it('refuses a real bootstrap while the config still has placeholders, and writes nothing', async () => {
    const r = await runCli(['bootstrap', '--config', example, '--root', dir]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('placeholders').and.contain('azure.tenantId');
    expect(await treeSnapshot(dir)).to.deep.equal({});
  });

  it('bootstrap --dry-run prints the plan and changes nothing under --root', async () => {
    const r = await runCli(['bootstrap', '--dry-run', '--config', example, '--root', dir]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/write \/etc\/containerd\/config\.toml/);
    expect(r.stdout).to.match(/Nothing was changed/);
    expect(await treeSnapshot(dir)).to.deep.equal({});
    const json = await runCli(['plan', '--json', '--config', example, '--root', dir]);
    const plan = JSON.parse(json.stdout);
    expect(plan.changes.some((c: { action: string; target: string }) => c.action === 'write' && c.target === '/etc/sysctl.d/99-flexnode-kubernetes.conf')).to.equal(true);
  });

  it('refuses a second run while another holds the lock, naming its pid', async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      await mkdir(join(dir, 'run/flexnode'), { recursive: true });
      await writeFile(
        join(dir, 'run/flexnode/flexnode.lock'),
        JSON.stringify({ pid: holder.pid, command: 'bootstrap', startedAt: new Date().toISOString(), hostname: 'test' }),
      );
      const config = join(dir, 'config.json');
      const valid = JSON.parse(await readFile(example, 'utf8'));
      valid.azure.subscriptionId = valid.azure.tenantId = '11111111-2222-3333-4444-555555555555';
      valid.azure.arc.machineName = 'node-1';
      valid.azure.arc.resourceGroup = 'rg';
      valid.azure.targetCluster.resourceId = '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks';
      await writeFile(config, JSON.stringify(valid));
      const r = await runCli(['bootstrap', '--config', config, '--root', dir]);
      expect(r.code, r.stderr).to.equal(3);
      expect(r.stderr).to.contain(String(holder.pid));
    } finally {
      holder.kill();
    }
  });
});
