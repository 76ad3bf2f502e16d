import { ConfigError } from '@flexnode/sdk';
import { MemoryHost, runStepCycle, testConfig } from '@flexnode/sdk/testing';
import { expect } from 'chai';
import { parse } from 'yaml';
import { azureServices, fakeReader } from '../fixtures.test.helpers.js';
import { kubePaths } from '../paths.js';
import type { ApiAnswer, NodeApi, NodeApiOptions } from './api.js';
import { kubeletConfiguration, nodeLabels, renderKubeletConfig } from './config.js';
import { createKubeletStep, NODE_RECORD } from './step.js';
import { execStartOf, kubeletArgs, kubeletDropIn, proxyEnvironment } from './unit.js';
import { validateKubeletConfiguration } from './v1beta1-schema.js';

const settings = { skipPreflight: [], protectKernelDefaults: true, serverTLSBootstrap: false, readyTimeoutSeconds: 180, requireAzureRbac: true };
const cluster = { name: 'test-cluster', dnsServiceIP: '10.20.0.10' };

const fullConfig = () =>
  testConfig({
    node: {
      name: 'edge-1',
      maxPods: 50,
      labels: { team: 'edge', 'node.kubernetes.io/pool': 'flex' },
      taints: ['dedicated=edge:NoSchedule', 'flexnode.io/new:PreferNoSchedule'],
      kubelet: { kubeReserved: { cpu: '100m', memory: '500Mi' }, evictionHard: { 'memory.available': '200Mi' }, imageGCHighThreshold: 80, imageGCLowThreshold: 60 },
    },
  });

/** A fake API server: Node Ready after `readyAfter` GETs; DELETE answers `deleteStatus`. */
function fakeApi(opts: { readyAfter?: number; deleteStatus?: number; unreachable?: boolean } = {}) {
  const seen: { method: string; name: string; token: string; server: string }[] = [];
  let gets = 0;
  const factory = (o: NodeApiOptions): NodeApi => {
    const call = async (method: string, name: string): Promise<ApiAnswer> => {
      if (opts.unreachable) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      seen.push({ method, name, token: await o.token(), server: o.server });
      if (method === 'DELETE') return { status: opts.deleteStatus ?? 200, body: { message: opts.deleteStatus === 403 ? 'nodes "edge-1" is forbidden' : '' } };
      gets++;
      const ready = gets > (opts.readyAfter ?? 0);
      return { status: 200, body: { metadata: { name }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'KubeletReady' : 'KubeletNotReady', message: 'stand-in' }] } } };
    };
    return { getNode: (n) => call('GET', n), deleteNode: (n) => call('DELETE', n) };
  };
  return { factory, seen };
}

/** The credentials step's kubeconfig, as the kubelet step finds it. */
function seedKubeconfig(host: MemoryHost) {
  host.seedFile('/var/lib/kubelet/kubeconfig', `apiVersion: v1\nclusters:\n- name: c\n  cluster:\n    server: https://api.test:443\n    certificate-authority-data: ${Buffer.from('-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n').toString('base64')}\n`, 0o600);
}

describe('KubeletConfiguration', () => {
  it('is valid kubelet.config.k8s.io/v1beta1 (field names and types of the Go types) for a full config', async () => {
    const doc = parse(await renderKubeletConfig({ config: fullConfig(), settings, cluster, paths: kubePaths(fullConfig()), resolved: true }));
    expect(validateKubeletConfiguration(doc)).to.deep.equal([]);
    expect(doc).to.deep.include({
      cgroupDriver: 'systemd',
      containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
      clusterDNS: ['10.20.0.10'],
      clusterDomain: 'cluster.local',
      readOnlyPort: 0,
      protectKernelDefaults: true,
      maxPods: 50,
      imageGCHighThresholdPercent: 80,
      resolvConf: '/run/systemd/resolve/resolv.conf',
    });
    expect(doc.authentication).to.deep.equal({ anonymous: { enabled: false }, webhook: { enabled: true, cacheTTL: '2m0s' }, x509: { clientCAFile: '/etc/kubernetes/certs/ca.crt' } });
    expect(doc.authorization.mode).to.equal('Webhook');
    expect(doc.registerWithTaints).to.deep.equal([{ key: 'dedicated', value: 'edge', effect: 'NoSchedule' }, { key: 'flexnode.io/new', effect: 'PreferNoSchedule' }]);
    expect(doc.evictionHard).to.deep.equal({ 'memory.available': '200Mi' });
    expect(doc.kubeReserved).to.deep.equal({ cpu: '100m', memory: '500Mi' });
  });

  it('the schema check catches wrong names and types', () => {
    const good = kubeletConfiguration({ config: testConfig(), settings, cluster, paths: kubePaths(testConfig()), resolved: false });
    expect(validateKubeletConfiguration(good)).to.deep.equal([]);
    expect(validateKubeletConfiguration({ ...good, clusterDns: ['x'], maxPods: '110', readOnlyPort: 1.5, authentication: { anonymous: { enabled: 'no' } } })).to.have.members([
      'maxPods: expected an int32, got "110"',
      'readOnlyPort: expected an int32, got 1.5',
      'authentication.anonymous.enabled: expected a boolean, got "no"',
      'clusterDns: not a field of the type',
    ]);
    expect(validateKubeletConfiguration({ ...good, authorization: { mode: 'Webhook', webhook: { cacheAuthorizedTTL: '5 minutes' } } })[0]).to.match(/Go duration/);
  });

  it('cluster DNS comes from the cluster, never a silent default', () => {
    expect(() => kubeletConfiguration({ config: testConfig(), settings, cluster: { name: 'c' }, paths: kubePaths(testConfig()), resolved: false })).to.throw(ConfigError, /reports no networkProfile\.dnsServiceIP/);
  });

  it('labels: kubernetes.azure.com/managed=false plus the config; kubernetes.io labels the kubelet may not set are refused', () => {
    expect(nodeLabels(fullConfig())).to.deep.equal({ 'kubernetes.azure.com/managed': 'false', team: 'edge', 'node.kubernetes.io/pool': 'flex' });
    expect(() => nodeLabels(testConfig({ node: { labels: { 'node-role.kubernetes.io/worker': '' } } }))).to.throw(/may not set labels in the node-role\.kubernetes\.io namespace/);
  });

  it('the drop-in: kubelet flags the real kubelet and the stand-in know, the proxy environment, systemd escaping', () => {
    const paths = kubePaths(testConfig());
    const args = kubeletArgs(paths, 'edge-1', { 'kubernetes.azure.com/managed': 'false' }, '192.0.2.10');
    expect(args).to.deep.equal([
      '--config=/var/lib/kubelet/config.yaml',
      '--kubeconfig=/var/lib/kubelet/kubeconfig',
      '--hostname-override=edge-1',
      '--node-labels=kubernetes.azure.com/managed=false',
      '--node-ip=192.0.2.10',
      '--v=2',
    ]);
    const env = proxyEnvironment(testConfig({ proxy: { https: 'http://user:p%40ss@proxy:3128', noProxy: '10.0.0.0/8,.svc' } }));
    const dropIn = kubeletDropIn(paths, args, env);
    expect(dropIn).to.include('Environment=HTTPS_PROXY=http://user:p%%40ss@proxy:3128\n');
    expect(dropIn).to.match(/\nExecStart=\nExecStart=\/usr\/local\/bin\/kubelet --config=/);
    expect(execStartOf(dropIn)).to.deep.equal(['/usr/local/bin/kubelet', ...args]);
  });
});

describe('kube.kubelet step', () => {
  it('writes config, unit and drop-in, enables and starts the kubelet, waits for Ready; uninstall restores everything and deletes the Node', async () => {
    const host = new MemoryHost();
    seedKubeconfig(host);
    const api = fakeApi({ readyAfter: 2 });
    const step = createKubeletStep({ readCluster: fakeReader(), nodeApi: api.factory, sleep: async () => undefined, pollMs: 1 });
    const report = await runStepCycle(step, { config: fullConfig(), host, services: azureServices() });
    expect(report.initial['kube.kubelet']).to.deep.include({ status: 'missing' });
    expect(report.installed.units['kubelet.service']).to.deep.equal({ enabled: true, active: true });
    expect(report.installed.files).to.include.keys('/var/lib/kubelet/config.yaml', '/etc/systemd/system/kubelet.service', '/etc/systemd/system/kubelet.service.d/10-flexnode.conf');
    expect(report.installOps.map((o) => o.op)).to.include.members(['daemon-reload', 'enable', 'start']);
    // GETs until Ready, with the node identity's token for the AKS server app, at the kubeconfig's server.
    expect(api.seen.filter((s) => s.method === 'GET').length).to.be.greaterThan(2);
    expect(api.seen.every((s) => s.token === 'node-token' && s.server === 'https://api.test:443' && s.name === 'edge-1')).to.equal(true);
    expect(api.seen.at(-1)!.method).to.equal('DELETE');
    expect(host.logLines.some((l) => /deleted Node edge-1/.test(l.message))).to.equal(true);
    expect(report.pristine.units).to.deep.equal({});
  });

  it('a 403 on the Node delete is a warning with the fix, not a failure', async () => {
    const host = new MemoryHost();
    seedKubeconfig(host);
    const api = fakeApi({ deleteStatus: 403 });
    await runStepCycle(createKubeletStep({ readCluster: fakeReader(), nodeApi: api.factory, sleep: async () => undefined }), { config: fullConfig(), host, services: azureServices() });
    const warn = host.logLines.find((l) => l.level === 'warn' && /may not delete Node edge-1/.test(l.message));
    expect(warn?.message).to.match(/kubectl delete node edge-1/);
    expect(host.journal.get('kube.kubelet')!.some((c) => c.kind === 'custom' && c.type === NODE_RECORD)).to.equal(false);
  });

  it('asks for Ready soon after starting the kubelet, then less often: 100 ms doubling up to pollMs', async () => {
    const host = new MemoryHost();
    seedKubeconfig(host);
    const waits: number[] = [];
    const step = createKubeletStep({ readCluster: fakeReader(), nodeApi: fakeApi({ readyAfter: 7 }).factory, sleep: async (ms) => void waits.push(ms), pollMs: 1000 });
    await step.create(host.forStep('kube.kubelet'), fullConfig(), ...[...azureServices().values()]).install();
    expect(waits.slice(0, 6)).to.deep.equal([100, 200, 400, 800, 1000, 1000]);
  });

  it('a Node that never gets Ready fails the install with the reason and where to look', async () => {
    const host = new MemoryHost();
    seedKubeconfig(host);
    const config = testConfig({ node: { name: 'edge-1' }, pluginConfig: { '@flexnode/plugin-kube': { readyTimeoutSeconds: 0 } } });
    const step = createKubeletStep({ readCluster: fakeReader(), nodeApi: fakeApi({ readyAfter: 1e9 }).factory, sleep: async () => undefined });
    const inst = step.create(host.forStep('kube.kubelet'), config, ...[...azureServices().values()]);
    const error = await inst.install().then(() => undefined, (e: Error & { hint?: string }) => e);
    expect(error?.message).to.match(/Node edge-1 is not Ready \(KubeletNotReady: stand-in\) 0 s after starting the kubelet/);
    expect(error?.hint).to.match(/journalctl -u kubelet\.service/);
  });

  it('an unreachable API server does not block: readiness is reported as not checked', async () => {
    const host = new MemoryHost();
    seedKubeconfig(host);
    const step = createKubeletStep({ readCluster: fakeReader(), nodeApi: fakeApi({ unreachable: true }).factory, sleep: async () => undefined });
    const inst = step.create(host.forStep('kube.kubelet'), fullConfig(), ...[...azureServices().values()]);
    await inst.install();
    const check = await inst.check();
    expect(check.status).to.equal('ok');
    expect(check.status === 'ok' && check.detail).to.match(/not reachable from here .*Node readiness not checked/);
  });

  it('without a service manager: files written and enabled, not started; check says so', async () => {
    const host = new MemoryHost({ systemd: false });
    seedKubeconfig(host);
    const report = await runStepCycle(createKubeletStep({ readCluster: fakeReader(), nodeApi: fakeApi().factory }), { config: fullConfig(), host, services: azureServices() });
    expect(report.installed.units['kubelet.service']).to.deep.equal({ enabled: true, active: false });
  });

  it('a changed config is drift, and install restarts the running kubelet', async () => {
    const host = new MemoryHost();
    seedKubeconfig(host);
    const api = fakeApi();
    const make = (maxPods: number) =>
      createKubeletStep({ readCluster: fakeReader(), nodeApi: api.factory, sleep: async () => undefined }).create(host.forStep('kube.kubelet'), testConfig({ node: { name: 'edge-1', maxPods } }), ...[...azureServices().values()]);
    await make(110).install();
    const changed = make(30);
    expect(await changed.check()).to.deep.include({ status: 'drifted' });
    const before = host.ops.length;
    await changed.install();
    expect(host.ops.slice(before).map((o) => o.op)).to.include('restart');
    expect(await changed.check()).to.deep.include({ status: 'ok' });
  });
});
