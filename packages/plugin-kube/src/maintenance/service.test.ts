import { expect } from 'chai';
import { ConfigError } from '@flexnode/sdk';
import { MemoryHost, testConfig } from '@flexnode/sdk/testing';
import { X509Certificate } from 'node:crypto';
import { renderBootstrapKubeconfig } from '../bootstrap/kubeconfig.js';
import { fakeAzure, fakeIdentity } from '../fixtures.test.helpers.js';
import type { NodeApiOptions } from '../kubelet/api.js';
import { testPki } from '../test-pki.test.helpers.js';
import type { KubeApi } from './api.js';
import { MemoryKubeApi } from './memory-api.test.helpers.js';
import { nodeMaintenance } from './service.js';

function node(opts: { installed?: string; pin?: string; api?: MemoryKubeApi; plugin?: Record<string, unknown>; upgrade?: { maxConcurrent?: number } } = {}) {
  const host = new MemoryHost();
  host.seedFile(
    '/var/lib/kubelet/kubeconfig',
    `apiVersion: v1\nclusters:\n- name: c\n  cluster:\n    server: https://api.test:443\n    certificate-authority-data: ${Buffer.from('-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n').toString('base64')}\n`,
    0o600,
  );
  host.onExec('/usr/local/bin/kubelet', () => ({ exitCode: 0, stdout: `Kubernetes v${opts.installed ?? '1.30.4'}\n`, stderr: '' }));
  const api = opts.api ?? new MemoryKubeApi().addNode('edge-1');
  let t = Date.parse('2026-11-01T10:00:00Z');
  const config = testConfig({
    node: { name: 'edge-1' },
    kubernetes: { ...(opts.pin ? { version: opts.pin } : {}), ...(opts.upgrade ? { upgrade: opts.upgrade } : {}) },
    pluginConfig: { '@flexnode/plugin-kube': { drainTimeoutSeconds: 30, readyTimeoutSeconds: 20, upgradeSlotWaitSeconds: 10, ...opts.plugin } },
  });
  const svc = nodeMaintenance(host.forStep('service.node-maintenance'), config, fakeIdentity, undefined, {
    nodeApi: () => api,
    sleep: async (ms) => void (t += ms),
    now: () => t,
    pollMs: 1000,
  });
  return { svc, api, host };
}

describe("node maintenance (the upgrade's plan, slot, cordon, drain, Ready)", () => {
  it("plans the cluster's version by default, the config's pin when set, --to only where no other pin says otherwise", async () => {
    const a = node();
    expect(await a.svc.upgradePlan()).to.deep.include({ from: '1.30.4', to: '1.31.2', source: 'cluster', apiServer: '1.31.2', outsideSkew: false });
    expect((await a.svc.upgradePlan()).config).to.deep.equal({ kubernetes: { version: '1.31.2' } });
    expect(await node({ pin: '1.31.0' }).svc.upgradePlan()).to.deep.include({ to: '1.31.0', source: 'pinned' });
    expect(await a.svc.upgradePlan('v1.30.9')).to.deep.include({ to: '1.30.9', source: 'requested' });
    const conflict = await node({ pin: '1.31.0' })
      .svc.upgradePlan('1.31.1')
      .catch((e: ConfigError) => e);
    expect(conflict).to.be.instanceOf(ConfigError);
    expect((conflict as ConfigError).message).to.match(/--to 1\.31\.1: the config pins kubernetes\.version 1\.31\.0/);
  });

  it('a target outside the version skew policy is refused (exit 2) naming the rule and both versions', async () => {
    const { svc } = node();
    const newer = (await svc.upgradePlan('1.32.0').catch((e: ConfigError) => e)) as ConfigError;
    expect(newer).to.be.instanceOf(ConfigError);
    expect(newer.exitCode).to.equal(2);
    expect(newer.message).to.equal(
      "kubelet 1.32.0 (--to) is newer than the API server's 1.31.2 (GET https://api.test:443/version): Kubernetes' version skew policy: a kubelet is never newer than the API server, and at most 3 minor versions older",
    );
    const older = (await svc.upgradePlan('1.27.3').catch((e: ConfigError) => e)) as ConfigError;
    expect(older.message).to.match(/^kubelet 1\.27\.3 \(--to\) is 4 minor versions older than the API server's 1\.31\.2/);
  });

  it("knows when the installed kubelet has fallen outside the policy (the agent's cue)", async () => {
    const api = new MemoryKubeApi().addNode('edge-1');
    api.gitVersion = 'v1.34.1';
    expect(await node({ installed: '1.30.4', api }).svc.upgradePlan()).to.deep.include({ to: '1.34.1', outsideSkew: true });
  });

  it('begin takes a slot, cordons and drains; end uncordons and frees the slot', async () => {
    const api = new MemoryKubeApi()
      .addNode('edge-1')
      .addPod({ name: 'web', node: 'edge-1', controller: 'ReplicaSet' })
      .addPod({ name: 'ds', node: 'edge-1', controller: 'DaemonSet' });
    const { svc } = node({ api });
    await svc.begin();
    expect(api.leases.get('kube-node-lease/flexnode-upgrade-0')!.spec.holderIdentity).to.equal('edge-1');
    expect(api.nodes.get('edge-1')!.spec.unschedulable).to.equal(true);
    expect(api.nodes.get('edge-1')!.metadata.annotations['flexnode.io/cordoned-by']).to.equal('upgrade');
    expect(api.podNames('edge-1')).to.deep.equal(['default/ds']);
    await svc.end();
    expect(api.nodes.get('edge-1')!.spec.unschedulable).to.equal(undefined);
    expect(api.leases.get('kube-node-lease/flexnode-upgrade-0')!.spec.holderIdentity).to.equal(undefined);
  });

  it('a drain blocked by a budget: the upgrade does not start, the node is uncordoned and the slot free, the pod named', async () => {
    const api = new MemoryKubeApi().addNode('edge-1').addPod({ name: 'guarded', node: 'edge-1', controller: 'ReplicaSet', budget: 'guarded-pdb' });
    const { svc } = node({ api });
    const error = (await svc.begin().catch((e: Error) => e)) as Error & { hint?: string };
    expect(error.message).to.match(
      /^draining Node edge-1 timed out after 30 s: 1 pod still on it: default\/guarded \(PodDisruptionBudget default\/guarded-pdb allows no disruption now.*; the upgrade did not start: Node edge-1 is uncordoned and back in service$/,
    );
    expect(error.hint).to.not.match(/--force/);
    expect(api.nodes.get('edge-1')!.spec.unschedulable).to.equal(undefined);
    expect(api.leases.get('kube-node-lease/flexnode-upgrade-0')!.spec.holderIdentity).to.equal(undefined);
  });

  it('another node holding the only slot: begin waits, then fails naming it, with nothing cordoned', async () => {
    const api = new MemoryKubeApi().addNode('edge-1');
    await api.createLease('kube-node-lease', {
      metadata: { name: 'flexnode-upgrade-0' },
      spec: { holderIdentity: 'edge-2', leaseDurationSeconds: 300, renewTime: '2026-11-01T10:00:00.000000Z' },
    });
    const { svc } = node({ api });
    const error = (await svc.begin().catch((e: Error) => e)) as Error;
    expect(error.message).to.match(/no upgrade slot came free in 10 s .*flexnode-upgrade-0 held by edge-2/);
    expect(api.nodes.get('edge-1')!.spec.unschedulable).to.equal(undefined);
  });

  it("waitReady wants the new kubelet's version and Ready: a stale Ready of the old kubelet does not count", async () => {
    const api = new MemoryKubeApi().addNode('edge-1');
    const { svc } = node({ api });
    const error = (await svc.waitReady('1.31.2').catch((e: Error) => e)) as Error;
    expect(error.message).to.equal('Node edge-1 did not come back Ready with kubelet v1.31.2 within 20 s: kubelet v1.30.4, Ready True (KubeletReady)');
    api.nodes.get('edge-1')!.status.nodeInfo.kubeletVersion = 'v1.31.2';
    await svc.waitReady('1.31.2');
  });

  it("bootstrap-token mode: the node's certificate cordons and drains; the operator holds the slot (a node may hold no Lease but its own)", async () => {
    const pki = testPki();
    try {
      const host = new MemoryHost();
      host.seedFile(
        '/var/lib/kubelet/bootstrap-kubeconfig',
        await renderBootstrapKubeconfig('c', 'https://api.test:443', pki.caPem, 'abcdef.0123456789abcdef'),
        0o600,
      );
      host.seedFile('/var/lib/kubelet/pki/kubelet-client-current.pem', pki.pair('/O=system:nodes/CN=system:node:edge-1'), 0o600);
      host.onExec('/usr/local/bin/kubelet', () => ({ exitCode: 0, stdout: 'Kubernetes v1.30.4\n', stderr: '' }));
      const api = new MemoryKubeApi().addNode('edge-1').addPod({ name: 'web', node: 'edge-1', controller: 'ReplicaSet' });
      const who: string[] = [];
      /** Every call, named with the identity that made it. */
      const factory = (o: NodeApiOptions): KubeApi => {
        const as = async () => {
          const c = await o.credential();
          return 'token' in c ? c.token : new X509Certificate(c.certPem).subject.replace(/\n/g, ',');
        };
        const wrap =
          <A extends unknown[]>(name: string, fn: (...a: A) => Promise<unknown>) =>
          async (...a: A) =>
            (who.push(`${name} as ${await as()}`), fn(...a)) as never;
        return {
          list: wrap('list nodes', () => api.list()),
          get: wrap('get node', (n: string) => api.get(n)),
          create: wrap('create node', (n: Record<string, unknown>) => api.create(n)),
          patch: wrap('patch node', (n: string, p: Record<string, unknown>) => api.patch(n, p)),
          delete: wrap('delete node', (n: string) => api.delete(n)),
          listNodePods: wrap('list pods', (n: string) => api.listNodePods(n)),
          evictPod: wrap('evict', (ns: string, n: string) => api.evictPod(ns, n)),
          getLease: wrap('get lease', (ns: string, n: string) => api.getLease(ns, n)),
          createLease: wrap('create lease', (ns: string, l: Record<string, unknown>) => api.createLease(ns, l)),
          updateLease: wrap('update lease', (ns: string, n: string, l: Record<string, unknown>) => api.updateLease(ns, n, l)),
          version: wrap('version', () => api.version()),
        };
      };
      const config = testConfig({
        node: { name: 'edge-1' },
        kubernetes: { auth: 'bootstrap-token' },
        pluginConfig: { '@flexnode/plugin-kube': { drainTimeoutSeconds: 30, upgradeSlotWaitSeconds: 10 } },
      });
      const svc = (azure: typeof fakeAzure | undefined) =>
        nodeMaintenance(host.forStep('service.node-maintenance'), config, fakeIdentity, azure, { nodeApi: factory, sleep: async () => undefined, pollMs: 1 });
      const node = 'O=system:nodes,CN=system:node:edge-1';
      await svc(fakeAzure).begin();
      expect(who).to.deep.equal([
        'get lease as operator-token',
        'create lease as operator-token',
        `get node as ${node}`,
        `patch node as ${node}`,
        `list pods as ${node}`,
        `evict as ${node}`,
        `list pods as ${node}`,
      ]);
      who.length = 0;
      await svc(fakeAzure).end();
      expect(who.filter((w) => /lease/.test(w)).every((w) => w.endsWith('operator-token'))).to.equal(true);
      expect(who.filter((w) => /node/.test(w)).every((w) => w.endsWith(node))).to.equal(true);
      // Without the operator's credential: refused before the cordon, naming what needs it.
      const error = (await svc(undefined)
        .begin()
        .catch((e: Error) => e)) as Error & { code?: string };
      expect(error.code).to.equal('AZURE_OPERATOR_CREDENTIAL_REQUIRED');
      expect(error.message).to.match(
        /^flexnode upgrade \(the upgrade slots: a node's certificate may hold no Lease but its own\) needs the operator's Azure credential/,
      );
      expect(api.nodes.get('edge-1')!.spec.unschedulable).to.equal(undefined);
    } finally {
      pki.dispose();
    }
  });
});
