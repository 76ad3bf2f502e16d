import { AzureError, ConfigError } from '@flexnode/sdk';
import { createStep, diffSnapshots, MemoryHost, runStepCycle, testConfig } from '@flexnode/sdk/testing';
import { expect } from 'chai';
import { parse } from 'yaml';
import { serviceDeps, azureServices, CA_PEM, FACTS, fakeAzure, fakeReader } from '../fixtures.test.helpers.js';
import { cachedReader, parseClusterId, readClusterFromArm, serverAndCa, type ClusterReader } from './cluster.js';
import { createCredentialsStep } from '../steps.js';

const AKS_KUBECONFIG = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${Buffer.from(CA_PEM).toString('base64')}
    server: https://test-cluster-abc.hcp.westus.azmk8s.io:443
  name: test-cluster
contexts:
- context:
    cluster: test-cluster
    user: clusterUser_test-rg_test-cluster
  name: test-cluster
current-context: test-cluster
kind: Config
users:
- name: clusterUser_test-rg_test-cluster
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --login, devicecode]
`;

describe('kube.cluster-credentials', () => {
  it('writes the CA (0644) and a kubeconfig (0600) with only server, CA and the node identity exec user', async () => {
    const report = await runStepCycle(createCredentialsStep(fakeReader()), { config: testConfig(), services: azureServices() });
    expect(report.installed.files['/etc/kubernetes/certs/ca.crt']).to.deep.include({ mode: 0o644 });
    expect(report.installed.files['/var/lib/kubelet/kubeconfig']).to.deep.include({ mode: 0o600 });
    expect(report.installed.dirs).to.include.members(['/etc/kubernetes', '/etc/kubernetes/certs', '/var/lib/kubelet']);
    expect(report.pristine.files).to.deep.equal({});
  });

  it('the kubeconfig: exec credential for the AKS server app, the cluster CA, no AKS user, no token', async () => {
    const host = new MemoryHost();
    const step = createCredentialsStep(fakeReader()).create({ host: host.forStep('kube.cluster-credentials'), config: testConfig(), ...serviceDeps() });
    await step.install();
    const text = host.files.get('/var/lib/kubelet/kubeconfig')!.content.toString();
    const kc = parse(text);
    expect(kc.clusters).to.deep.equal([
      { name: 'test-cluster', cluster: { server: FACTS.server, 'certificate-authority-data': Buffer.from(CA_PEM).toString('base64') } },
    ]);
    expect(kc.users).to.have.length(1);
    expect(kc.users[0].user.exec).to.deep.equal({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      command: '/usr/local/bin/flexnode',
      args: ['token', '--resource', '6dae42f8-4368-4678-94ff-3960e28e3630'],
      env: [{ name: 'FLEXNODE_CONFIG', value: '/etc/aks-flex-node/config.json' }],
      interactiveMode: 'Never',
      provideClusterInfo: false,
    });
    expect(kc['current-context']).to.equal('test-cluster');
    expect(text).to.not.match(/kubelogin|token:|client-key|password/);
    expect(host.files.get('/etc/kubernetes/certs/ca.crt')!.content.toString()).to.equal(CA_PEM);
  });

  it('after install the check works from the recorded facts: no Azure read; an edited file is drift; another cluster is read', async () => {
    const host = new MemoryHost();
    const services = serviceDeps();
    const first = fakeReader();
    await createCredentialsStep(first)
      .create({ host: host.forStep('kube.cluster-credentials'), config: testConfig(), ...services })
      .install();
    expect(first.calls).to.equal(1);
    // No credential now: a reader that would fail is never asked.
    const noCredential: ClusterReader = async () => {
      throw new AzureError('cannot read the cluster test-cluster: no usable Azure credential');
    };
    const later = createCredentialsStep(noCredential).create({ host: host.forStep('kube.cluster-credentials'), config: testConfig(), ...services });
    expect(await later.check()).to.deep.include({ status: 'ok', detail: `${FACTS.server} (test-cluster)` });
    host.seedFile('/etc/kubernetes/certs/ca.crt', "someone else's CA\n");
    expect(await later.check()).to.deep.include({ status: 'drifted', reason: "/etc/kubernetes/certs/ca.crt differs from the cluster's current CA" });
    await later.install(); // a heal needs no Azure either
    expect(await later.check()).to.deep.include({ status: 'ok' });
    // A config naming another cluster is read (and without a credential that says who needs it and why).
    const other = testConfig({ azure: { ...testConfig().azure, targetCluster: { resourceId: FACTS.resourceId.replace('test-cluster', 'other') } } });
    const moved = createCredentialsStep(noCredential).create({ host: host.forStep('kube.cluster-credentials'), config: other, ...services });
    const error = await moved.check().catch((e: AzureError) => e);
    expect(error).to.be.instanceOf(AzureError);
    expect((error as AzureError).message).to.equal(
      "kube.cluster-credentials reads the cluster once with the operator's Azure credential (nothing is recorded yet): cannot read the cluster test-cluster: no usable Azure credential",
    );
  });

  it('refuses a cluster without Azure RBAC or without AAD, with the command that fixes it; warns when told not to require it', async () => {
    const host = new MemoryHost();
    const services = serviceDeps();
    const noRbac = createCredentialsStep(fakeReader({ azureRbac: false })).create({ host: host.forStep('x'), config: testConfig(), ...services });
    const err = await noRbac.check().catch((e: AzureError) => e);
    expect(err).to.be.instanceOf(AzureError);
    expect((err as AzureError).message).to.match(/does not have Azure RBAC enabled/);
    expect((err as AzureError).hint).to.match(/--enable-azure-rbac/);
    const noAad = createCredentialsStep(fakeReader({ aad: false, azureRbac: false })).create({ host: host.forStep('x'), config: testConfig(), ...services });
    expect(((await noAad.check().catch((e: Error) => e)) as Error).message).to.match(/no Microsoft Entra ID \(AAD\) integration/);
    const relaxed = testConfig({ pluginConfig: { '@flexnode/plugin-kube': { requireAzureRbac: false } } });
    const ok = createCredentialsStep(fakeReader({ azureRbac: false })).create({ host: host.forStep('y'), config: relaxed, ...services });
    expect((await ok.check()).status).to.equal('missing');
    expect(host.logLines.some((l) => l.level === 'warn' && /Azure RBAC/.test(l.message))).to.equal(true);
  });

  it('bootstrap-token mode: the CA only (the kubelet writes its kubeconfig), and a cluster without Azure RBAC is fine', async () => {
    const config = testConfig({ kubernetes: { auth: 'bootstrap-token' } });
    const report = await runStepCycle(createCredentialsStep(fakeReader({ azureRbac: false })), { config, services: azureServices() });
    expect(Object.keys(report.installed.files).filter((f) => !f.startsWith('/var/lib/flexnode'))).to.deep.equal(['/etc/kubernetes/certs/ca.crt']);
  });

  it('a joined node keeps its kubernetes.auth: another mode is a config error naming the way (exit 2), nothing changed', async () => {
    const host = new MemoryHost();
    const step = createCredentialsStep(fakeReader());
    await createStep(step, host, { config: testConfig(), services: azureServices() }).install();
    const before = host.snapshot();
    const bootstrap = createStep(step, host, { config: testConfig({ kubernetes: { auth: 'bootstrap-token' } }), services: azureServices() });
    for (const op of [() => bootstrap.check(), () => bootstrap.install()]) {
      const e = await op().then(
        () => undefined,
        (x: Error) => x,
      );
      expect(e).to.be.instanceOf(ConfigError);
      expect(e!.message).to.equal('kubernetes.auth is bootstrap-token, but this node joined with arc-msi');
      expect((e as ConfigError).hint).to.include('flexnode unbootstrap');
    }
    expect(diffSnapshots(before, host.snapshot())).to.deep.equal([]);
  });

  it('server and CA are all that is taken from the AKS kubeconfig', async () => {
    expect(await serverAndCa(AKS_KUBECONFIG, 'test-cluster')).to.deep.equal({ server: FACTS.server, caPem: CA_PEM });
    await serverAndCa(AKS_KUBECONFIG.replace('https://', 'http://'), 'c').then(
      () => expect.fail(),
      (e: Error) => expect(e.message).to.match(/no https server URL/),
    );
  });

  it('placeholders, malformed ids and a missing credential fail clearly before any Azure call', async () => {
    const placeholder = testConfig({
      azure: {
        ...testConfig().azure,
        targetCluster: { resourceId: '/subscriptions/<subscription-id>/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c' },
      },
    });
    const e1 = await readClusterFromArm(fakeAzure, placeholder).catch((e: ConfigError) => e);
    expect(e1).to.be.instanceOf(ConfigError);
    expect((e1 as ConfigError).message).to.match(/azure\.targetCluster\.resourceId is still a placeholder/);
    expect(() => parseClusterId(testConfig({ azure: { ...testConfig().azure, targetCluster: { resourceId: 'my-cluster' } } }))).to.throw(
      /is not an AKS cluster resource id/,
    );
    const e2 = await readClusterFromArm(undefined, testConfig()).catch((e: AzureError) => e);
    expect(e2).to.be.instanceOf(AzureError);
    expect((e2 as AzureError).message).to.match(/no Azure credential is available/);
    expect((e2 as AzureError).hint).to.match(/az login|servicePrincipal/);
    expect(parseClusterId(testConfig())).to.deep.include({
      subscriptionId: '00000000-0000-0000-0000-000000000001',
      resourceGroup: 'test-rg',
      name: 'test-cluster',
    });
  });

  it('the cluster is read once per run for all steps; a failed read is not remembered', async () => {
    let calls = 0;
    let fail = true;
    const inner: ClusterReader = async () => {
      calls++;
      if (fail) throw new Error('boom');
      return FACTS;
    };
    const reader = cachedReader(inner);
    await reader(fakeAzure, testConfig()).catch(() => undefined);
    fail = false;
    await reader(fakeAzure, testConfig());
    await reader(fakeAzure, testConfig());
    expect(calls).to.equal(2);
  });
});
