import { ConfigError, ContainerRuntime, proxyEnvironment, type ContainerRuntimeService } from '@flexnode/sdk';
import { createStep, execStartOf, MemoryHost, runStepCycle, testConfig } from '@flexnode/sdk/testing';
import { expect } from 'chai';
import { parse } from 'yaml';
import { AzureError } from '@flexnode/sdk';
import { cachedReader, type ClusterReader } from '../cluster/cluster.js';
import { containerdRuntime, serviceDeps, azureServices, FACTS, fakeReader } from '../fixtures.test.helpers.js';
import { kubePaths } from '../paths.js';
import { fakeApi, fakeOperator, kubeletStep, seedKubeconfig } from './fake-api.test.helpers.js';
import { kubeletConfiguration, nodeLabels, renderKubeletConfig } from './config.js';
import { NODE_RECORD } from './step.js';
import { kubeletArgs, kubeletDropIn, kubeletEnvironmentFile } from './unit.js';
import { validateKubeletConfiguration } from './v1beta1-schema.js';
import { parseKubeVersion } from '../version.js';
import { kubeSettings } from '../settings.js';

const settings = kubeSettings(testConfig());
const cluster = { name: 'test-cluster', dnsServiceIP: '10.20.0.10' };
const machine = { cpus: 4, memoryBytes: 8 * 2 ** 30 };
const version = parseKubeVersion('1.35.2')!;
const fullConfig = () =>
  testConfig({
    node: {
      name: 'edge-1',
      maxPods: 50,
      labels: { team: 'edge', 'node.kubernetes.io/pool': 'flex' },
      taints: ['dedicated=edge:NoSchedule', 'flexnode.io/new:PreferNoSchedule'],
      kubelet: {
        kubeReserved: { cpu: '100m', memory: '500Mi' },
        evictionHard: { 'memory.available': '200Mi' },
        imageGCHighThreshold: 80,
        imageGCLowThreshold: 60,
      },
    },
  });

/** Strings the schema lets through in free-form fields (no control character) that mean something in YAML. */
const YAML_HOSTILE = [
  'a: b',
  '- x',
  '#c',
  "'q'",
  '"dq"',
  '{x}',
  '[y]',
  '&anchor',
  '*alias',
  '!tag',
  '%dir',
  '@at',
  '`bt`',
  ' lead',
  'trail ',
  'yes',
  'null',
  '0x1F',
  '1e3',
  '~',
  'back\\slash',
  'ümlaut',
  '|',
  '>',
];

describe('KubeletConfiguration', () => {
  it('free-form string values the schema accepts are read back exactly by the YAML parser', async () => {
    const config = fullConfig();
    config.node = {
      ...config.node,
      kubelet: {
        evictionHard: Object.fromEntries(YAML_HOSTILE.map((v, i) => [`k${i}${v}`, v])),
        kubeReserved: Object.fromEntries(YAML_HOSTILE.map((v, i) => [`r${i}`, v])),
      },
    };
    const doc = parse(
      await renderKubeletConfig({
        config,
        settings,
        cluster,
        paths: kubePaths(config),
        resolved: false,
        runtime: containerdRuntime,
        version: parseKubeVersion('1.35.2')!,
        machine: { cpus: 4, memoryBytes: 16 * 2 ** 30 },
      }),
    );
    expect(doc.evictionHard).to.deep.equal(config.node.kubelet!.evictionHard);
    expect(doc.kubeReserved).to.deep.equal(config.node.kubelet!.kubeReserved);
  });

  it('is valid kubelet.config.k8s.io/v1beta1 (field names and types of the Go types) for a full config', async () => {
    const doc = parse(
      await renderKubeletConfig({
        config: fullConfig(),
        settings,
        cluster,
        paths: kubePaths(fullConfig()),
        resolved: true,
        runtime: containerdRuntime,
        version,
        machine,
      }),
    );
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
    expect(doc.authentication).to.deep.equal({
      anonymous: { enabled: false },
      webhook: { enabled: true, cacheTTL: '2m0s' },
      x509: { clientCAFile: '/etc/kubernetes/certs/ca.crt' },
    });
    expect(doc.authorization.mode).to.equal('Webhook');
    expect(doc.registerWithTaints).to.deep.equal([
      { key: 'dedicated', value: 'edge', effect: 'NoSchedule' },
      { key: 'flexnode.io/new', effect: 'PreferNoSchedule' },
    ]);
    expect(doc.evictionHard).to.deep.equal({ 'memory.available': '200Mi' });
    expect(doc.kubeReserved).to.deep.equal({ cpu: '100m', memory: '500Mi' });
  });

  it('the schema check catches wrong names and types', () => {
    const good = kubeletConfiguration({
      config: testConfig(),
      settings,
      cluster,
      paths: kubePaths(testConfig()),
      resolved: false,
      runtime: containerdRuntime,
      version,
      machine,
    });
    expect(validateKubeletConfiguration(good)).to.deep.equal([]);
    expect(
      validateKubeletConfiguration({ ...good, clusterDns: ['x'], maxPods: '110', readOnlyPort: 1.5, authentication: { anonymous: { enabled: 'no' } } }),
    ).to.have.members([
      'maxPods: expected an int32, got "110"',
      'readOnlyPort: expected an int32, got 1.5',
      'authentication.anonymous.enabled: expected a boolean, got "no"',
      'clusterDns: not a field of the type',
    ]);
    expect(validateKubeletConfiguration({ ...good, authorization: { mode: 'Webhook', webhook: { cacheAuthorizedTTL: '5 minutes' } } })[0]).to.match(
      /Go duration/,
    );
  });

  it('cluster DNS comes from the cluster, never a silent default', () => {
    expect(() =>
      kubeletConfiguration({
        config: testConfig(),
        settings,
        cluster: { name: 'c' },
        paths: kubePaths(testConfig()),
        resolved: false,
        runtime: containerdRuntime,
        version,
        machine,
      }),
    ).to.throw(ConfigError, /reports no networkProfile\.dnsServiceIP/);
  });

  it('labels: kubernetes.azure.com/managed=false plus the config; kubernetes.io labels the kubelet may not set are refused', () => {
    expect(nodeLabels(fullConfig())).to.deep.equal({ 'kubernetes.azure.com/managed': 'false', team: 'edge', 'node.kubernetes.io/pool': 'flex' });
    expect(() => nodeLabels(testConfig({ node: { labels: { 'node-role.kubernetes.io/worker': '' } } }))).to.throw(
      /may not set labels in the node-role\.kubernetes\.io namespace/,
    );
  });

  it('the drop-in: kubelet flags the real kubelet and the stand-in know, the proxy environment, systemd escaping', () => {
    const paths = kubePaths(testConfig());
    const args = kubeletArgs(paths, {
      nodeName: 'edge-1',
      labels: { 'kubernetes.azure.com/managed': 'false' },
      nodeIP: '192.0.2.10',
      sandboxImage: 'mcr.microsoft.com/oss/v2/kubernetes/pause:3.10.2',
      version,
    });
    expect(args).to.deep.equal([
      '--config=/var/lib/kubelet/config.yaml',
      '--kubeconfig=/var/lib/kubelet/kubeconfig',
      '--hostname-override=edge-1',
      '--node-labels=kubernetes.azure.com/managed=false',
      '--node-ip=192.0.2.10',
      '--v=2',
    ]);
    // Only kubelets before 1.27 are told the pause image (deprecated in 1.27: they learn it over CRI; removed in 1.35).
    const old = kubeletArgs(paths, {
      nodeName: 'edge-1',
      labels: {},
      sandboxImage: 'mcr.microsoft.com/oss/v2/kubernetes/pause:3.10.2',
      version: parseKubeVersion('1.26.15')!,
    });
    expect(old).to.include('--pod-infra-container-image=mcr.microsoft.com/oss/v2/kubernetes/pause:3.10.2');
    for (const v of ['1.27.0', '1.34.9', '1.35.0', '1.37.1']) {
      expect(
        kubeletArgs(paths, { nodeName: 'n', labels: {}, sandboxImage: 'p', version: parseKubeVersion(v)! }).some((a) =>
          a.startsWith('--pod-infra-container-image'),
        ),
        v,
      ).to.equal(false);
    }
    const env = proxyEnvironment(testConfig({ proxy: { https: 'http://user:p%40ss@proxy:3128', noProxy: '10.0.0.0/8,.svc' } }).proxy);
    const dropIn = kubeletDropIn(paths, args);
    // The proxy (a URL that may hold a password) is not in the 0644 drop-in: it reads the 0600 environment file.
    expect(dropIn).to.not.include('proxy:3128');
    expect(dropIn).to.include(`EnvironmentFile=${paths.environmentFile}\n`);
    expect(kubeletEnvironmentFile(env)).to.include('HTTPS_PROXY="http://user:p%40ss@proxy:3128"\n');
    // The exec credential plugin (Node's Azure SDK) would send the Arc agent's 127.0.0.1 to the proxy otherwise.
    expect(env.NO_PROXY).to.equal('10.0.0.0/8,.svc,127.0.0.1,localhost,::1');
    expect(proxyEnvironment(testConfig({ proxy: { noProxy: '.svc' } }).proxy)).to.deep.equal({ NO_PROXY: '.svc', no_proxy: '.svc' });
    expect(dropIn).to.match(/\nExecStart=\nExecStart=\/usr\/local\/bin\/kubelet --config=/);
    expect(execStartOf(dropIn)).to.deep.equal(['/usr/local/bin/kubelet', ...args]);
    // A hostile label value cannot add a line or a specifier: it stays one argument.
    const hostile = kubeletArgs(paths, { nodeName: 'edge-1', labels: { team: 'a b"c\\d%n$X' }, version: parseKubeVersion('1.35.2')! });
    expect(execStartOf(kubeletDropIn(paths, hostile))).to.deep.equal(['/usr/local/bin/kubelet', ...hostile]);
  });
});

describe('kube.kubelet step', () => {
  it('writes config, unit and drop-in, enables and starts the kubelet, waits for Ready; uninstall restores everything and deletes the Node', async () => {
    const host = new MemoryHost();
    seedKubeconfig(host);
    const api = fakeApi({ readyAfter: 2 });
    const step = kubeletStep({ nodeApi: api.factory });
    const report = await runStepCycle(step, { config: fullConfig(), host, services: azureServices() });
    expect(report.initial['kube.kubelet']).to.deep.include({ status: 'missing' });
    expect(report.installed.units['kubelet.service']).to.deep.equal({ enabled: true, active: true });
    expect(report.installed.files).to.include.keys(
      '/var/lib/kubelet/config.yaml',
      '/etc/systemd/system/kubelet.service',
      '/etc/systemd/system/kubelet.service.d/10-flexnode.conf',
    );
    expect(report.installOps.map((o) => o.op)).to.include.members(['daemon-reload', 'enable', 'start']);
    // GETs until Ready, with the node identity's token for the AKS server app, at the kubeconfig's server.
    expect(api.seen.filter((s) => s.method === 'GET').length).to.be.greaterThan(2);
    expect(api.seen.every((s) => s.token === 'node-token' && s.server === 'https://api.test:443' && s.name === 'edge-1')).to.equal(true);
    expect(api.seen.filter((s) => s.method === 'DELETE').map((s) => s.name)).to.deep.equal(['edge-1']);
    // Cordoned (with flexnode's note on the Node) and drained before the delete.
    expect(api.memory.calls.filter((c) => /^(PATCH|LIST)/.test(c))).to.deep.equal([
      `PATCH node edge-1 {"spec":{"unschedulable":true},"metadata":{"annotations":{"flexnode.io/cordoned-by":"unbootstrap","flexnode.io/cordoned-at":"${(api.memory.nodes.get('edge-1')!.metadata.annotations as Record<string, string>)['flexnode.io/cordoned-at']}"}}}`,
      'LIST pods edge-1',
    ]);
    expect(host.logLines.some((l) => /deleted Node edge-1/.test(l.message))).to.equal(true);
    expect(report.pristine.units).to.deep.equal({});
  });

  it('takes the CRI endpoint, cgroup driver and unit from the chosen container runtime, not from constants', async () => {
    const host = new MemoryHost();
    seedKubeconfig(host);
    const crio: ContainerRuntimeService = { criEndpoint: 'unix:///var/run/crio/crio.sock', unit: 'crio.service', cgroupDriver: 'cgroupfs' };
    const services = new Map(azureServices()).set(ContainerRuntime, crio);
    await createStep(kubeletStep({ nodeApi: fakeApi().factory }), host, { config: fullConfig(), services }).install();
    const text = (path: string) => host.files.get(path)!.content.toString();
    const doc = parse(text('/var/lib/kubelet/config.yaml'));
    expect(doc).to.deep.include({ containerRuntimeEndpoint: 'unix:///var/run/crio/crio.sock', cgroupDriver: 'cgroupfs' });
    const unit = text('/etc/systemd/system/kubelet.service');
    expect(unit).to.match(/^After=network-online\.target crio\.service$/m);
    expect(unit).to.match(/^Wants=network-online\.target crio\.service$/m);
    expect(unit).to.not.match(/containerd/);
  });

  it("a Node the node identity may not delete (system:node and flexnode's role may not) is deleted as the operator", async () => {
    const host = new MemoryHost();
    seedKubeconfig(host);
    const operator = fakeOperator(200);
    await runStepCycle(kubeletStep({ nodeApi: fakeApi({ deleteStatus: 403 }).factory, operatorClient: operator.factory }), {
      config: fullConfig(),
      host,
      services: azureServices(),
    });
    expect(operator.calls).to.deep.equal([{ method: 'DELETE', path: '/api/v1/nodes/edge-1', token: 'operator-token', server: FACTS.server }]);
    expect(host.logLines.map((l) => l.message)).to.include('deleted Node edge-1 from the cluster (as the operator)');
  });

  it('a Node nobody may delete is a warning with the fix, not a failure', async () => {
    const host = new MemoryHost();
    seedKubeconfig(host);
    const operator = fakeOperator(403);
    await runStepCycle(kubeletStep({ nodeApi: fakeApi({ deleteStatus: 403 }).factory, operatorClient: operator.factory }), {
      config: fullConfig(),
      host,
      services: azureServices(),
    });
    const warn = host.logLines.find((l) => l.level === 'warn' && /could not delete Node edge-1/.test(l.message));
    expect(warn?.message)
      .to.include('Access denied for action: Microsoft.ContainerService/managedClusters/nodes/delete')
      .and.include('Azure Kubernetes Service RBAC Admin')
      .and.match(/kubectl delete node edge-1/);
    expect(host.journal.get('kube.kubelet')!.some((c) => c.kind === 'custom' && c.type === NODE_RECORD)).to.equal(false);
  });

  it('asks for Ready soon after starting the kubelet, then less often: 100 ms doubling up to pollMs', async () => {
    const host = new MemoryHost();
    seedKubeconfig(host);
    const waits: number[] = [];
    const step = kubeletStep({ nodeApi: fakeApi({ readyAfter: 7 }).factory, sleep: async (ms) => void waits.push(ms), pollMs: 1000 });
    await createStep(step, host, { config: fullConfig(), services: azureServices() }).install();
    expect(waits.slice(0, 6)).to.deep.equal([100, 200, 400, 800, 1000, 1000]);
  });

  it('a Node that never gets Ready fails the install with the reason and where to look', async () => {
    const host = new MemoryHost();
    seedKubeconfig(host);
    const config = testConfig({ node: { name: 'edge-1' }, pluginConfig: { '@flexnode/plugin-kube': { readyTimeoutSeconds: 0 } } });
    const step = kubeletStep({ nodeApi: fakeApi({ readyAfter: 1e9 }).factory });
    const inst = step.create({ host: host.forStep('kube.kubelet'), config: config, ...serviceDeps() });
    const error = await inst.install().then(
      () => undefined,
      (e: Error & { hint?: string }) => e,
    );
    expect(error?.message).to.match(/Node edge-1 is not Ready \(KubeletNotReady: stand-in\) 0 s after starting the kubelet/);
    expect(error?.hint).to.match(/journalctl -u kubelet\.service/);
  });

  it('an unreachable API server does not block: readiness is reported as not checked', async () => {
    const host = new MemoryHost();
    seedKubeconfig(host);
    const step = kubeletStep({ nodeApi: fakeApi({ unreachable: true }).factory });
    const inst = step.create({ host: host.forStep('kube.kubelet'), config: fullConfig(), ...serviceDeps() });
    await inst.install();
    const check = await inst.check();
    expect(check.status).to.equal('ok');
    expect(check.status === 'ok' && check.detail).to.match(/not reachable from here .*Node readiness not checked/);
  });

  it('without a service manager: files written and enabled, not started; check says so', async () => {
    const host = new MemoryHost({ systemd: false });
    seedKubeconfig(host);
    const report = await runStepCycle(kubeletStep({ nodeApi: fakeApi().factory }), { config: fullConfig(), host, services: azureServices() });
    expect(report.installed.units['kubelet.service']).to.deep.equal({ enabled: true, active: false });
  });

  it('a changed config is drift, and install restarts the running kubelet', async () => {
    const host = new MemoryHost();
    seedKubeconfig(host);
    const api = fakeApi();
    const make = (maxPods: number) =>
      kubeletStep({ nodeApi: api.factory }).create({
        host: host.forStep('kube.kubelet'),
        config: testConfig({ node: { name: 'edge-1', maxPods } }),
        ...serviceDeps(),
      });
    await make(110).install();
    const changed = make(30);
    expect(await changed.check()).to.deep.include({ status: 'drifted' });
    const before = host.ops.length;
    await changed.install();
    expect(host.ops.slice(before).map((o) => o.op)).to.include('restart');
    expect(await changed.check()).to.deep.include({ status: 'ok' });
  });

  it('after install, check and heal work from the records: no Azure read, the node IP as recorded', async () => {
    const host = new MemoryHost();
    seedKubeconfig(host);
    const reader = fakeReader();
    const routes: string[] = [];
    const make = (r: ClusterReader) =>
      kubeletStep({ readCluster: r, nodeApi: fakeApi().factory, routeSource: async (server) => (routes.push(server), '198.51.100.7') }).create({
        host: host.forStep('kube.kubelet'),
        config: fullConfig(),
        ...serviceDeps(),
      });
    await make(cachedReader(reader)).install();
    expect(reader.calls).to.equal(1);
    expect(new Set(routes)).to.deep.equal(new Set([FACTS.server]));
    const looked = routes.length;
    const dropIn = () => host.files.get('/etc/systemd/system/kubelet.service.d/10-flexnode.conf')!.content.toString();
    expect(dropIn()).to.include('--node-ip=198.51.100.7').and.include('--runtime-cgroups=/system.slice/containerd.service');
    const noCredential: ClusterReader = async () => {
      throw new AzureError('no usable Azure credential');
    };
    const later = make(noCredential);
    expect(await later.check()).to.deep.include({ status: 'ok' });
    expect(routes).to.have.length(looked); // the check looked nothing up
    host.seedFile('/var/lib/kubelet/config.yaml', 'edited by hand\n');
    expect(await later.check()).to.deep.include({ status: 'drifted' });
    await later.install(); // the heal: no Azure either
    expect(await later.check()).to.deep.include({ status: 'ok' });
  });

  it('--node-ip: the configured one, else the route to the API server; neither is a config error naming the setting', async () => {
    const host = new MemoryHost();
    seedKubeconfig(host);
    const configured = testConfig({ node: { name: 'edge-1' }, pluginConfig: { '@flexnode/plugin-kube': { nodeIP: '203.0.113.5' } } });
    await kubeletStep({ nodeApi: fakeApi().factory, routeSource: async () => '198.51.100.7' })
      .create({ host: host.forStep('kube.kubelet'), config: configured, ...serviceDeps() })
      .install();
    expect(host.files.get('/etc/systemd/system/kubelet.service.d/10-flexnode.conf')!.content.toString()).to.include('--node-ip=203.0.113.5');
    const none = new MemoryHost();
    seedKubeconfig(none);
    const error = await kubeletStep({ nodeApi: fakeApi().factory, routeSource: async () => undefined })
      .create({ host: none.forStep('kube.kubelet'), config: fullConfig(), ...serviceDeps() })
      .install()
      .catch((e: ConfigError) => e);
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).message).to.equal(`no route from this machine to the API server ${FACTS.server}: the kubelet's --node-ip cannot be chosen`);
    expect((error as ConfigError).hint).to.match(/nodeIP/);
    expect([...none.files.keys()].filter((p) => p.startsWith('/etc/systemd'))).to.deep.equal([]);
  });

  it('kube-reserved follows the machine and eviction the version, unless node.kubelet sets them', async () => {
    const render = (cpus: number, gib: number, v: string, kubelet = {}) =>
      kubeletConfiguration({
        config: testConfig({ node: { kubelet } }),
        settings,
        cluster,
        paths: kubePaths(testConfig()),
        resolved: false,
        runtime: containerdRuntime,
        version: parseKubeVersion(v)!,
        machine: { cpus, memoryBytes: gib * 2 ** 30 },
      });
    expect(render(2, 4, '1.35.2')).to.deep.include({ kubeReserved: { cpu: '100m', memory: '1024Mi' } });
    expect(render(16, 64, '1.35.2')).to.deep.include({ kubeReserved: { cpu: '260m', memory: '2250Mi' } });
    expect((render(8, 32, '1.28.9').evictionHard as Record<string, string>)['memory.available']).to.equal('750Mi');
    expect(render(8, 32, '1.35.2', { kubeReserved: { cpu: '1' } })).to.deep.include({ kubeReserved: { cpu: '1' } });
    expect(() => render(8, 32, '1.35.2', { imageGCHighThreshold: 70 })).to.throw(
      ConfigError,
      /imageGCLowThreshold \(80\) must be below imageGCHighThreshold \(70\)/,
    );
  });
});
