import { expect } from 'chai';
import { parse } from 'yaml';
import { AzureError, PodCidr, PodCidrErrors, FlexnodeError, type FlexnodeConfig } from '@flexnode/sdk';
import { createStep, execStartOf, MemoryHost, runStepCycle, testConfig } from '@flexnode/sdk/testing';
import type { ClusterFacts } from '../cluster/cluster.js';
import { azureServices, fakeReader } from '../fixtures.test.helpers.js';
import { kubePaths } from '../paths.js';
import { parseKubeVersion } from '../version.js';
import { kubeProxyConfiguration, kubeProxyUnit } from './config.js';
import { createProxyStep } from '../steps.js';
import { clusterCIDRsFor, PROXY_BINARY_RECORD } from './step.js';

const VERSION = '1.35.2';
const OVERLAY: Partial<ClusterFacts> = {
  networkPlugin: 'azure',
  networkPluginMode: 'overlay',
  networkDataplane: 'azure',
  podCidrs: ['10.244.0.0/16'],
  serviceCidrs: ['10.20.0.0/16'],
  nodeResourceGroup: 'MC_rg_c_westus',
};
const KUBENET: Partial<ClusterFacts> = { ...OVERLAY, networkPlugin: 'kubenet', networkPluginMode: undefined };
const BIN = '/usr/local/bin/kube-proxy';
const paths = kubePaths(testConfig());

/** kube-proxy of `version` as dl.k8s.io serves it, with the `.sha256` beside it. */
function serveKubeProxy(host: MemoryHost, version = VERSION, body = `#!/bin/sh\necho kube-proxy ${VERSION}\n`) {
  const url = `https://dl.k8s.io/v${version}/bin/linux/amd64/kube-proxy`;
  const sha = host.addArtifact(url, body);
  host.addArtifact(`${url}.sha256`, sha);
  return sha;
}

const config = (over: Partial<FlexnodeConfig> = {}) =>
  testConfig({ kubernetes: { version: VERSION }, node: { name: 'edge-1' }, cni: { podCIDR: '10.90.3.0/24' }, ...over });
const services = () => azureServices();

describe('kube.proxy: the service proxy mode on the machine', () => {
  it("AKS's kube-proxy (kubenet): nothing on the machine but the record of the cluster; the check then says who serves Services, without Azure", async () => {
    const host = new MemoryHost();
    const step = createStep(createProxyStep(fakeReader(KUBENET)), host, { config: config(), services: services() });
    expect(await step.check()).to.deep.equal({ status: 'missing', reason: 'the service proxy mode is not decided for this cluster yet' });
    await step.install();
    expect(host.ops.filter((o) => o.op !== 'record' && o.op !== 'forget')).to.deep.equal([]);
    const offline = createStep(
      createProxyStep(async () => {
        throw new AzureError('no usable Azure credential');
      }),
      host,
      { config: config(), services: services() },
    );
    expect(await offline.check()).to.deep.equal({
      status: 'ok',
      detail: "Services: AKS's kube-proxy DaemonSet (the node is labelled kubernetes.azure.com/cluster=MC_rg_c_westus)",
    });
  });

  it("flexnode's kube-proxy (Azure CNI): the verified binary, config, 0600 kubeconfig and environment, the unit started; a full cycle restores the machine", async () => {
    const host = new MemoryHost();
    serveKubeProxy(host);
    const report = await runStepCycle(createProxyStep(fakeReader(OVERLAY)), { host, config: config(), services: services() });
    expect(report.installed.files[BIN]).to.deep.include({ mode: 0o755 });
    expect(report.installed.files[paths.kubeProxyKubeconfig]!.mode).to.equal(0o600);
    expect(report.installed.files[paths.kubeProxyEnvironmentFile]!.mode).to.equal(0o600);
    expect(report.installed.units['kube-proxy.service']).to.deep.equal({ enabled: true, active: true });
    const again = new MemoryHost();
    serveKubeProxy(again);
    await createStep(createProxyStep(fakeReader(OVERLAY)), again, { config: config(), services: services() }).install();
    const text = (path: string) => again.files.get(path)!.content.toString();
    expect(again.files.get(BIN)!.content.toString()).to.equal(`#!/bin/sh\necho kube-proxy ${VERSION}\n`);
    const doc = parse(text(paths.kubeProxyConfig));
    expect(doc).to.deep.include({
      kind: 'KubeProxyConfiguration',
      mode: 'iptables',
      hostnameOverride: 'edge-1',
      clusterCIDR: '10.90.3.0/24',
      detectLocalMode: 'ClusterCIDR',
    });
    const kc = parse(text(paths.kubeProxyKubeconfig));
    expect(kc.users[0].user.exec).to.deep.include({ command: '/usr/local/bin/flexnode', interactiveMode: 'Never' });
    expect(execStartOf(text(paths.kubeProxyUnit))).to.deep.equal([BIN, '--config=/var/lib/kube-proxy/config.yaml', '--v=2']);
  });

  it("a replaced binary or a changed file is drift and heals; the mode moving to AKS's removes flexnode's kube-proxy", async () => {
    const host = new MemoryHost();
    serveKubeProxy(host);
    const step = createStep(createProxyStep(fakeReader(OVERLAY)), host, { config: config(), services: services() });
    await step.install();
    expect(await step.check()).to.deep.include({ status: 'ok' });
    host.files.get(BIN)!.content = Buffer.from('not kube-proxy');
    expect((await step.check()).status).to.equal('drifted');
    await step.install();
    expect(await step.check()).to.deep.include({ status: 'ok' });
    const moved = createStep(createProxyStep(fakeReader(OVERLAY)), host, {
      config: config({ kubernetes: { version: VERSION, serviceProxy: 'none' } }),
      services: services(),
    });
    expect(await moved.check()).to.deep.include({ status: 'drifted' });
    await moved.install();
    expect(host.files.has(BIN)).to.equal(false);
    expect(host.files.has(paths.kubeProxyUnit)).to.equal(false);
    expect(host.journal.get('kube.proxy')!.some((c) => c.kind === 'custom' && c.type === PROXY_BINARY_RECORD)).to.equal(false);
    expect(await moved.check()).to.deep.include({ status: 'ok' });
  });

  it("kube-proxy from the node tarball of upstream's urlTemplate, like the kubelet", async () => {
    const host = new MemoryHost();
    const template = 'https://dl.k8s.io/v%s/kubernetes-node-linux-%s.tar.gz';
    const url = `https://dl.k8s.io/v${VERSION}/kubernetes-node-linux-amd64.tar.gz`;
    const sha = host.addArtifact(url, 'tarball', {
      'kubernetes/node/bin/kube-proxy': '#!/bin/sh\necho kube-proxy from the tarball\n',
      'kubernetes/node/bin/kubelet': 'x',
    });
    host.addArtifact(`${url}.sha256`, sha);
    const step = createStep(createProxyStep(fakeReader(OVERLAY)), host, {
      config: config({ kubernetes: { version: VERSION, urlTemplate: template } }),
      services: services(),
    });
    await step.install();
    expect(host.files.get(BIN)!.content.toString()).to.contain('from the tarball');
    expect(host.files.has('/usr/local/bin/kubelet')).to.equal(false);
  });

  it('the KubeProxyConfiguration: clusterCIDR as given, nodePortAddresses primary from 1.30 (kubernetes PR #123105)', () => {
    const at = (v: string, cidrs: string[] = ['10.244.0.0/16']) =>
      kubeProxyConfiguration(paths, { nodeName: 'n', clusterCIDRs: cidrs, version: parseKubeVersion(v)! });
    expect(at('1.35.2')).to.deep.equal({
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      clientConnection: { kubeconfig: '/var/lib/kube-proxy/kubeconfig' },
      hostnameOverride: 'n',
      mode: 'iptables',
      clusterCIDR: '10.244.0.0/16',
      detectLocalMode: 'ClusterCIDR',
      healthzBindAddress: '0.0.0.0:10256',
      metricsBindAddress: '127.0.0.1:10249',
      nodePortAddresses: ['primary'],
    });
    expect(at('1.29.9')).to.not.have.property('nodePortAddresses');
    expect(at('1.35.2', ['10.244.0.0/16', 'fd00:10:244::/56']).clusterCIDR).to.equal('10.244.0.0/16,fd00:10:244::/56');
    expect(at('1.35.2', [])).to.not.have.property('clusterCIDR');
    expect(kubeProxyUnit(paths)).to.contain('EnvironmentFile=/etc/kubernetes/kube-proxy-flexnode.env');
  });

  it("clusterCIDR: the cluster's pod range around an allocated node range; an edge node's own range; the cluster's without one", async () => {
    const answering = (cidrs: string[] | 'pending') => ({
      podCIDRs: async () => {
        if (cidrs === 'pending') throw new FlexnodeError(PodCidrErrors.pending, 'no range');
        return cidrs;
      },
    });
    const facts = { podCidrs: ['10.244.0.0/16', 'fd00:10:244::/56'] };
    expect(await clusterCIDRsFor(facts, answering(['10.244.7.0/24']))).to.deep.equal(['10.244.0.0/16', 'fd00:10:244::/56']);
    expect(await clusterCIDRsFor(facts, answering(['10.90.3.0/24']))).to.deep.equal(['10.90.3.0/24']);
    expect(await clusterCIDRsFor(facts, answering('pending'))).to.deep.equal(['10.244.0.0/16', 'fd00:10:244::/56']);
    expect(await clusterCIDRsFor({ podCidrs: [] }, answering('pending'))).to.deep.equal([]);
    void PodCidr;
  });
});
