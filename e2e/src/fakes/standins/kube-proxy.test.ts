// The kube-proxy STAND-IN as a child process: its flags and strict KubeProxyConfiguration, then its real calls
// against the fake Kubernetes API: as system:kube-proxy (the system:node-proxier ClusterRole, as kubeadm sets it
// up), and with an identity that may not list Services (a fatal 403 naming the call).
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeKubeApi } from '../fake-kube-api.js';
import { until } from '../kube/client.test.helpers.js';
import { installStandin } from './install.js';

const VERSION = '1.35.6';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

const config = (extra: string, kubeconfig: string, healthz: number) => `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: ${kubeconfig}
hostnameOverride: edge-1
mode: iptables
clusterCIDR: 10.90.3.0/24
detectLocalMode: ClusterCIDR
healthzBindAddress: 127.0.0.1:${healthz}
metricsBindAddress: 127.0.0.1:0
nodePortAddresses: [primary]
${extra}`;

describe('kube-proxy stand-in', function () {
  this.timeout(60_000);
  let tmp = '';
  let bin = '';
  let kube: FakeKubeApi;
  let child: ChildProcess | undefined;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'kube-proxy-standin-'));
    bin = installStandin('kube-proxy', join(tmp, 'bin/kube-proxy'), { kubeletVersion: VERSION });
    kube = await FakeKubeApi.start({ version: `v${VERSION}` });
  });
  afterEach(() => void child?.kill('SIGTERM'));
  after(async () => {
    await kube?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(bin, args, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr })),
    );

  it('--version prints the baked version; unknown flags, unknown config fields and invalid values fail as kube-proxy fails', async () => {
    expect((await run(['--version'])).stdout.trim()).to.equal(`Kubernetes v${VERSION}`);
    const unknown = await run(['--no-such-flag']);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.contain('unknown flag: --no-such-flag');
    const file = join(tmp, 'bad.yaml');
    writeFileSync(file, config('oopsField: 1\n', '/nowhere', 1));
    const strict = await run([`--config=${file}`]);
    expect(strict.code).to.equal(1);
    expect(strict.stderr).to.contain('strict decoding error: unknown field "oopsField"');
    writeFileSync(file, config('', '/nowhere', 1).replace('clusterCIDR: 10.90.3.0/24', 'clusterCIDR: 10.90.3.0/24,10.91.0.0/16'));
    expect((await run([`--config=${file}`])).stderr).to.contain('only one CIDR allowed or a valid DualStack CIDR');
    writeFileSync(file, config('', '/nowhere', 1).replace('mode: iptables', 'mode: userspace'));
    expect((await run([`--config=${file}`])).stderr).to.contain('Mode: Invalid value: "userspace"');
    // 'primary' is a keyword of kube-proxy 1.30 and later only.
    const old = installStandin('kube-proxy', join(tmp, 'bin/kube-proxy-old'), { kubeletVersion: '1.29.9' });
    writeFileSync(file, config('', '/nowhere', 1));
    const primary = await new Promise<string>((resolve) => execFile(old, [`--config=${file}`], (_e, _o, stderr) => resolve(stderr)));
    expect(primary).to.contain('NodePortAddresses[0]: Invalid value: "primary"');
  });

  it('as system:kube-proxy: waits for its Node, lists and watches Services, EndpointSlices and ServiceCIDRs, posts "Starting", serves /healthz', async () => {
    const cert = await kube.issueClientCert('system:kube-proxy', ['system:node-proxier']);
    const kubeconfig = join(tmp, 'kubeconfig');
    writeFileSync(kubeconfig, kube.kubeconfig(cert), { mode: 0o600 });
    const healthz = await freePort();
    const file = join(tmp, 'config.yaml');
    writeFileSync(file, config('', kubeconfig, healthz));
    let log = '';
    child = spawn(process.execPath, [bin, `--config=${file}`, '--v=2'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d) => {
      log += d;
    });
    await until(() => log.includes('Waiting for node "edge-1"'), 10_000, 'the wait for the Node');
    kube.cluster.systemCreate('nodes', {
      metadata: { name: 'edge-1' },
      spec: {},
      status: { addresses: [{ type: 'InternalIP', address: '192.0.2.7' }] },
    } as never);
    const wanted = [
      'list nodes',
      'list services',
      'watch services',
      'list endpointslices',
      'watch endpointslices',
      'list servicecidrs',
      'watch servicecidrs',
      'create events',
    ];
    const mine = () => kube.audit.filter((e) => e.user === 'system:kube-proxy');
    const seen = () => new Set(mine().map((e) => `${e.verb} ${e.resource}${e.code < 300 ? '' : ` ${e.code}`}`));
    await until(() => log.includes('Syncing iptables rules') && wanted.every((w) => seen().has(w)), 15_000, `the first sync and ${wanted.join(', ')}`);
    expect(mine().every((e) => e.userAgent.startsWith(`kube-proxy/v${VERSION}`))).to.equal(true);
    const services = mine().find((e) => e.resource === 'services' && e.verb === 'list')!;
    expect(new URLSearchParams(services.query).get('labelSelector')).to.equal('!service.kubernetes.io/service-proxy-name');
    expect(new URLSearchParams(services.query).get('fieldSelector')).to.equal('spec.clusterIP!=None');
    const slices = mine().find((e) => e.resource === 'endpointslices' && e.verb === 'list')!;
    expect(new URLSearchParams(slices.query).get('labelSelector')).to.equal('!service.kubernetes.io/headless');
    const event = kube.cluster.store
      .list(kube.cluster.res('events.events.k8s.io'), 'default')
      .find((e) => (e.regarding as { name?: string } | undefined)?.name === 'edge-1');
    expect(event).to.deep.include({ reason: 'Starting', action: 'StartKubeProxy', reportingController: 'kube-proxy' });
    expect(kube.denials().filter((e) => e.user === 'system:kube-proxy')).to.deep.equal([]);
    const res = await fetch(`http://127.0.0.1:${healthz}/healthz`);
    expect(res.status).to.equal(200);
    expect(await res.json()).to.have.property('nodeEligible', true);
    expect(log).to.match(/services=1 endpointSlices=0/); // the `kubernetes` Service
  });

  it("an identity that may not read Nodes: a fatal 403 naming the call and the API server's message", async () => {
    const cert = await kube.issueClientCert('someone', ['some-group']);
    const kubeconfig = join(tmp, 'kubeconfig-nobody');
    writeFileSync(kubeconfig, kube.kubeconfig(cert), { mode: 0o600 });
    const file = join(tmp, 'config-nobody.yaml');
    writeFileSync(file, config('', kubeconfig, await freePort()));
    const out = await run([`--config=${file}`]);
    expect(out.code).to.equal(1);
    expect(out.stderr).to.match(
      /"GET \/api\/v1\/nodes\?fieldSelector=metadata.name%3Dedge-1" failed: HTTP 403 Forbidden: nodes "edge-1" is forbidden: User "someone" cannot list resource "nodes" in API group "" at the cluster scope \(a kube-proxy cannot work with this identity\)/,
    );
  });
});
