// `flexnode doctor` through the real CLI (packages/cli, which bundles plugin-kube): the fake ARM over HTTPS reached
// through a local CONNECT proxy from the config, the artifact mirror, port 10250 taken by the test, --json and the exit code.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { FakeArm } from '../fakes/fake-arm.js';
import { ArtifactManifest } from '../mirror/build-artifacts.js';
import { startMirror, type MirrorServer } from '../mirror/mirror-server.js';

const CLI = fileURLToPath(new URL('bin/run.js', import.meta.resolve('@flexnode/cli/package.json')));
// The built CLI ships its command manifest (npm run build writes it).
const CLI_BUILT = fileURLToPath(new URL('oclif.manifest.json', import.meta.resolve('@flexnode/cli/package.json')));

function doctor(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'doctor', ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('flexnode doctor (real CLI, fake ARM through a proxy, test mirror)', function () {
  this.timeout(60_000);
  let tmp = '';
  let arm: FakeArm;
  let mirror: MirrorServer;
  let proxy: http.Server;
  const tunnels: string[] = [];
  let configPath = '';

  before(async function () {
    if (!existsSync(CLI_BUILT)) {
      console.log('      SKIP: packages/cli is not built');
      return this.skip();
    }
    tmp = mkdtempSync(join(tmpdir(), 'flexnode-doctor-'));
    arm = await FakeArm.start();
    mirror = await startMirror(new ArtifactManifest());
    proxy = http.createServer((_q, r) => r.writeHead(405).end());
    proxy.on('connect', (req, client, head) => {
      tunnels.push(req.url!);
      const [host, port] = req.url!.split(':');
      const up = net.connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        up.write(head);
        up.pipe(client);
        client.pipe(up);
      });
      up.on('error', () => client.destroy());
      client.on('error', () => up.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    configPath = join(tmp, 'config.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        azure: {
          subscriptionId: '00000000-0000-0000-0000-000000000001',
          tenantId: '00000000-0000-0000-0000-000000000002',
          endpoints: { resourceManager: arm.endpoint.replace('127.0.0.1', 'localhost') },
          targetCluster: {
            resourceId: '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c',
          },
        },
        artifacts: { mirror: mirror.url },
        // The ARM endpoint (as localhost) goes through the proxy (CONNECT); the mirror (127.0.0.1) is exempt.
        proxy: {
          https: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
          http: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
          noProxy: '127.0.0.1',
        },
      }),
    );
  });
  after(async () => {
    await arm?.stop().catch(() => undefined);
    await mirror?.close().catch(() => undefined);
    proxy?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('--json: every check with a verdict; the endpoints answer through the configured proxy; the clock is compared with ARM', async function () {
    const { code, stdout } = await doctor(['--json', '--config', configPath], { NODE_EXTRA_CA_CERTS: arm.certPath });
    const report = JSON.parse(stdout) as { ok: boolean; checks: { name: string; status: string; detail: string; fix?: string }[] };
    const c = Object.fromEntries(report.checks.map((x) => [x.name, x]));
    expect(Object.keys(c)).to.include.members(['os', 'arch', 'memory', 'disk', 'cgroup', 'port-10250', 'clock', 'azure-endpoint', 'artifact-endpoint']);
    expect(c['azure-endpoint']).to.deep.include({ status: 'pass' });
    expect(c['azure-endpoint']!.detail).to.match(/answered HTTP 401 via proxy http:\/\/127\.0\.0\.1:\d+/);
    expect(tunnels).to.include(`localhost:${new URL(arm.endpoint).port}`);
    expect(c['artifact-endpoint']!.status).to.equal('pass');
    expect(c['artifact-endpoint']!.detail).to.not.match(/via proxy/);
    expect(c.clock!.detail).to.match(/Azure/);
    expect(code).to.equal(report.ok ? 0 : 1);
  });

  it('a config of the wrong shape fails the config check (exit 1, one JSON document); a FIFO is not read', async function () {
    const cfg = JSON.parse((await import('node:fs')).readFileSync(configPath, 'utf8'));
    for (const [name, broken] of [
      ['endpoint-number.json', { ...cfg, azure: { ...cfg.azure, endpoints: { resourceManager: 5 } } }],
      ['skip-string.json', { ...cfg, pluginConfig: { '@flexnode/plugin-kube': { skipPreflight: 'port-10250' } } }],
    ] as const) {
      const file = join(tmp, name);
      writeFileSync(file, JSON.stringify(broken));
      const { code, stdout, stderr } = await doctor(['--json', '--config', file], { NODE_EXTRA_CA_CERTS: arm.certPath });
      expect(stderr, name).to.equal('');
      const report = JSON.parse(stdout) as { checks: { name: string; status: string; detail: string }[] };
      expect(
        report.checks.find((x) => x.name === 'config'),
        name,
      ).to.deep.include({ status: 'fail', detail: `${file} does not validate` });
      expect(code, name).to.equal(1);
    }
    const fifo = join(tmp, 'config.fifo');
    execFileSync('mkfifo', [fifo]);
    const { stdout } = await doctor(['--json', '--config', fifo], { NODE_EXTRA_CA_CERTS: arm.certPath });
    expect(JSON.parse(stdout).checks.find((x: { name: string }) => x.name === 'config')).to.deep.include({
      status: 'warn',
      detail: `${fifo} is not a regular file`,
    });
  });

  it('a taken port 10250 fails with the fix, exit code 1; skipPreflight lets it pass', async function () {
    const blocker = net.createServer();
    const listening = await new Promise<boolean>((resolve) => {
      blocker.once('error', () => resolve(false));
      blocker.listen(10250, '0.0.0.0', () => resolve(true));
    });
    if (!listening) {
      console.log('      SKIP: port 10250 is already in use on this machine');
      return this.skip();
    }
    try {
      const { code, stdout } = await doctor(['--config', configPath], { NODE_EXTRA_CA_CERTS: arm.certPath });
      expect(code).to.equal(1);
      expect(stdout).to.match(/FAIL\s+port-10250\s+something already listens on port 10250/);
      expect(stdout).to.match(/fix: stop what listens on 10250/);
      expect(stdout).to.match(/not ready: .*failed/);
      const skipping = join(tmp, 'skip.json');
      const cfg = JSON.parse((await import('node:fs')).readFileSync(configPath, 'utf8'));
      cfg.pluginConfig = { '@flexnode/plugin-kube': { skipPreflight: ['port-10250', 'cgroup'] } };
      writeFileSync(skipping, JSON.stringify(cfg));
      const again = await doctor(['--json', '--config', skipping], { NODE_EXTRA_CA_CERTS: arm.certPath });
      const checks = JSON.parse(again.stdout).checks as { name: string; status: string }[];
      expect(checks.find((x) => x.name === 'port-10250')!.status).to.equal('skip');
    } finally {
      blocker.close();
    }
  });
});
