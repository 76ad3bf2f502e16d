import { ConfigError, isFlexnodeError } from '@flexnode/sdk';
import { MemoryHost, runStepCycle, testConfig } from '@flexnode/sdk/testing';
import { expect } from 'chai';
import { azureServices, fakeAzure, fakeReader } from '../fixtures.test.helpers.js';
import { assertSupportedSkew } from './skew.js';
import { createVersionSkewStep } from '../steps.js';
import { SKEW_RECORD, type ServerVersionReader } from './step.js';

const refusal = (kubelet: string, apiServer: string): ConfigError | undefined => {
  try {
    assertSupportedSkew(kubelet, apiServer, 'kubernetes.version', 'GET https://api/version');
  } catch (e) {
    return e as ConfigError;
  }
  return undefined;
};

describe('version skew: kubelet against the API server', () => {
  it('allows the same minor and up to three older; patches within a minor never matter', () => {
    for (const kubelet of ['1.35.2', '1.35.9', '1.34.0', '1.33.13', '1.32.1']) expect(refusal(kubelet, 'v1.35.2'), kubelet).to.equal(undefined);
    expect(refusal('1.30.101-akslts', 'v1.33.4')).to.equal(undefined);
  });

  it('refuses a newer kubelet and one four minors older, naming both versions and the rule (exit 2)', () => {
    const newer = refusal('1.36.0', 'v1.35.2')!;
    expect(newer).to.be.instanceOf(ConfigError);
    expect(newer.exitCode).to.equal(2);
    expect(newer.message).to.equal(
      "kubelet 1.36.0 (kubernetes.version) is newer than the API server's 1.35.2 (GET https://api/version): Kubernetes' version skew policy: a kubelet is never newer than the API server, and at most 3 minor versions older",
    );
    expect(newer.hint).to.match(/1\.32 to 1\.35/);
    const older = refusal('1.31.14', 'v1.35.2')!;
    expect(older.message).to.match(
      /^kubelet 1\.31\.14 \(kubernetes\.version\) is 4 minor versions older than the API server's 1\.35\.2 .*at most 3 minor versions older$/,
    );
    expect(older.issues[0]).to.deep.equal({ path: 'kubernetes.version', message: 'too old for the API server (1.35.2); allowed: 1.32 to 1.35' });
    expect(refusal('1.30.101-akslts', 'v1.34.1')!.message).to.match(/kubelet 1\.30\.101-akslts .* 4 minor versions older/);
  });
});

describe('kube.version step', () => {
  const server =
    (version: string | undefined, seen: string[] = []): ServerVersionReader =>
    async (facts) => {
      seen.push(facts.server);
      return version ? { version, from: `GET ${facts.server}/version` } : undefined;
    };

  it('checks, records, and then needs neither Azure nor the API server until kubernetes.version changes', async () => {
    const host = new MemoryHost();
    const seen: string[] = [];
    const reader = fakeReader({ kubernetesVersion: '1.35.2' });
    const config = testConfig({ kubernetes: { version: '1.34.9' } });
    const report = await runStepCycle(createVersionSkewStep({ readCluster: reader, serverVersion: server('v1.35.2', seen) }), {
      config,
      host,
      services: azureServices(),
    });
    expect(report.initial['kube.version']).to.deep.include({ status: 'missing' });
    expect(seen).to.deep.equal(['https://test-cluster-abc.hcp.westus.azmk8s.io:443']);

    const h2 = new MemoryHost();
    const make = (cfg: ReturnType<typeof testConfig>, r = reader, v = server('v1.35.2')) =>
      createVersionSkewStep({ readCluster: r, serverVersion: v }).create({ host: h2.forStep('kube.version'), config: cfg, azure: fakeAzure });
    await make(config).install();
    const offline = fakeReader();
    const noServer = server(undefined);
    expect(await make(config, offline, noServer).check()).to.deep.include({
      status: 'ok',
      detail: 'kubelet 1.34.9, API server 1.35.2 (GET https://test-cluster-abc.hcp.westus.azmk8s.io:443/version)',
    });
    expect(await make(testConfig(), offline, noServer).check()).to.deep.include({ status: 'ok' }); // unset: the recorded one stays
    expect(offline.calls).to.equal(0);
    expect(await make(testConfig({ kubernetes: { version: '1.35.0' } }), offline).check()).to.deep.include({
      status: 'missing',
      reason: 'kubernetes.version is now 1.35.0; 1.34.9 was checked',
    });
  });

  it("refuses before anything is recorded; without kubernetes.version the cluster's version is used", async () => {
    for (const version of ['1.36.0', '1.31.2']) {
      const host = new MemoryHost();
      const step = createVersionSkewStep({ readCluster: fakeReader({ kubernetesVersion: '1.35.2' }), serverVersion: server('v1.35.2') });
      const error = await step
        .create({ host: host.forStep('kube.version'), config: testConfig({ kubernetes: { version } }), azure: fakeAzure })
        .install()
        .catch((e: unknown) => e);
      expect(isFlexnodeError(error) && error.exitCode, version).to.equal(2);
      expect(host.journal.get('kube.version') ?? []).to.deep.equal([]);
    }
    const host = new MemoryHost();
    await createVersionSkewStep({ readCluster: fakeReader({ kubernetesVersion: '1.35.2' }), serverVersion: server('v1.35.2') })
      .create({ host: host.forStep('kube.version'), config: testConfig(), azure: fakeAzure })
      .install();
    const record = host.journal.get('kube.version')!.find((c) => c.kind === 'custom' && c.type === SKEW_RECORD);
    expect(record?.kind === 'custom' && record.data).to.deep.equal({
      kubelet: '1.35.2',
      apiServer: '1.35.2',
      from: 'GET https://test-cluster-abc.hcp.westus.azmk8s.io:443/version',
    });
  });

  it('an API server that cannot be reached before the join: the version ARM reports stands in, and the log says so', async () => {
    const host = new MemoryHost();
    const step = createVersionSkewStep({ readCluster: fakeReader({ kubernetesVersion: '1.36.1' }), serverVersion: server(undefined) });
    const make = (version: string) => step.create({ host: host.forStep('kube.version'), config: testConfig({ kubernetes: { version } }), azure: fakeAzure });
    const error = await make('1.37.0')
      .install()
      .catch((e: ConfigError) => e);
    expect((error as ConfigError).message).to.match(
      /kubelet 1\.37\.0 \(kubernetes\.version\) is newer than the API server's 1\.36\.1 \(the control plane version ARM reports, the API server being unreachable from here\)/,
    );
    await make('1.36.0').install();
    expect(host.logLines.some((l) => l.level === 'warn' && /checking kubelet 1\.36\.0 against the control plane version ARM reports/.test(l.message))).to.equal(
      true,
    );
  });

  it('an AKS build nothing can verify is refused here, before any other step, naming the choices', async () => {
    const host = new MemoryHost();
    const step = createVersionSkewStep({ readCluster: fakeReader({ kubernetesVersion: '1.30.101-akslts' }), serverVersion: server('v1.30.101-akslts') });
    const error = await step
      .create({ host: host.forStep('kube.version'), config: testConfig(), azure: fakeAzure })
      .install()
      .catch((e: ConfigError) => e);
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).message).to.match(
      /Kubernetes node 1\.30\.101-akslts \(amd64\) from https:\/\/packages\.aks\.azure\.com\/.* cannot be verified/,
    );
    const pinned = testConfig({ kubernetes: { sha256: { 'kubernetes-node': 'd'.repeat(64) } } as never });
    await step.create({ host: host.forStep('kube.version'), config: pinned, azure: fakeAzure }).install();
  });
});
