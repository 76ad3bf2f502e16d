import { expect } from 'chai';
import { MemoryHost, testConfig, type ExecHandler } from '@flexnode/sdk/testing';
import type { StepInstance } from '@flexnode/sdk';
import { fakeReader, serviceDeps } from '../fixtures.test.helpers.js';
import type { KubeApi } from '../maintenance/api.js';
import { createKubeletStep } from '../steps.js';
import { MemoryKubeApi } from '../maintenance/memory-api.test.helpers.js';
import { bridgeNetworks, removeCniNatRules } from './network.js';
import { mountPoints } from './mounts.js';
import { TEARDOWN_RECORD, type TeardownRecord } from './sequence.js';

const config = testConfig({ node: { name: 'edge-1' }, pluginConfig: { '@flexnode/plugin-kube': { drainTimeoutSeconds: 20 } } });

function seedKubeconfig(host: MemoryHost) {
  host.seedFile(
    '/var/lib/kubelet/kubeconfig',
    `apiVersion: v1\nclusters:\n- name: c\n  cluster:\n    server: https://api.test:443\n    certificate-authority-data: ${Buffer.from('-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n').toString('base64')}\n`,
    0o600,
  );
}

/** A node with the kubelet installed, registered with `api`, pods on it; a clock that sleeping moves. */
async function installedNode(api: KubeApi & MemoryKubeApi) {
  const host = new MemoryHost();
  seedKubeconfig(host);
  let t = 0;
  // The operator's way to the same API server (when the node may not delete its Node): refused while it is
  // unreachable, as the node's is; never the real cluster's address.
  const operatorCalls: string[] = [];
  const operatorClient = () => ({
    call: async (method: string, path: string) => {
      operatorCalls.push(`${method} ${path}`);
      if (api.unreachable) throw Object.assign(new Error('connect ECONNREFUSED 192.0.2.1:443'), { code: 'ECONNREFUSED' });
      return { status: 404, body: {} };
    },
  });
  const make = (run: { command?: string; force?: boolean } = {}): StepInstance =>
    createKubeletStep({
      readCluster: fakeReader(),
      nodeApi: () => api,
      machine: async () => ({ cpus: 2, memoryBytes: 4 * 2 ** 30 }),
      routeSource: async () => '192.0.2.10',
      sleep: async (ms) => void (t += ms),
      pollMs: 1,
      now: () => new Date(Date.parse('2026-11-01T10:00:00Z') + t),
      operatorClient,
    }).create({ host: host.forStep('kube.kubelet'), config, ...serviceDeps(run) });
  await make().install();
  return { host, make, elapsed: () => t, operatorCalls };
}

const record = (host: MemoryHost) =>
  host.journal.get('kube.kubelet')!.find((c) => c.kind === 'custom' && c.type === TEARDOWN_RECORD) as { data: TeardownRecord } | undefined;

describe('unbootstrap takes the node out: cordon, drain, kubelet, pods, network, mounts, Node (kube.kubelet uninstall)', () => {
  const pods = (api: MemoryKubeApi) =>
    api
      .addPod({ name: 'web', node: 'edge-1', controller: 'ReplicaSet' })
      .addPod({ name: 'ds', node: 'edge-1', controller: 'DaemonSet' })
      .addPod({ name: 'guarded', node: 'edge-1', controller: 'ReplicaSet', budget: 'guarded-pdb' });

  it('a budget that blocks: the drain times out naming the pod, the node stays cordoned and says so; nothing else was done', async () => {
    const api = pods(new MemoryKubeApi().addNode('edge-1'));
    const { host, make } = await installedNode(api);
    const error = (await make({ command: 'unbootstrap' })
      .uninstall()
      .catch((e: unknown) => e)) as Error & { hint?: string };
    expect(error.message).to.match(
      /draining Node edge-1 timed out after 20 s: 1 pod still on it: default\/guarded \(PodDisruptionBudget default\/guarded-pdb allows no disruption now/,
    );
    expect(error.message).to.match(/Node edge-1 stays cordoned: the unbootstrap is under way/);
    expect(error.hint)
      .to.match(/--force/)
      .and.match(/flexnode bootstrap/);
    expect(api.nodes.get('edge-1')!.spec.unschedulable).to.equal(true);
    expect(api.nodes.get('edge-1')!.metadata.annotations['flexnode.io/cordoned-by']).to.equal('unbootstrap');
    expect(host.units.get('kubelet.service')).to.deep.equal({ enabled: true, active: true });
    expect(record(host)?.data.done).to.deep.equal([]);
    // status says so too, and what to do
    const check = await make({ command: 'status' }).check();
    expect(check.status === 'drifted' && check.reason).to.match(
      /an unbootstrap began taking Node edge-1 out at .* and did not finish: `flexnode unbootstrap` finishes it, `flexnode bootstrap` takes the node back/,
    );
  });

  it('--force goes on past the budget: the kubelet stops, the Node is deleted, nothing is left in the journal', async () => {
    const api = pods(new MemoryKubeApi().addNode('edge-1'));
    const { host, make } = await installedNode(api);
    await make({ command: 'unbootstrap' })
      .uninstall()
      .catch(() => undefined);
    await make({ command: 'unbootstrap', force: true }).uninstall();
    expect(api.nodes.has('edge-1')).to.equal(false);
    expect(host.units.get('kubelet.service')).to.deep.equal({ enabled: false, active: false });
    expect(host.journal.get('kube.kubelet')!.filter((c) => c.kind !== 'exec')).to.deep.equal([]);
    expect(host.logLines.some((l) => l.level === 'warn' && /resuming the unbootstrap of Node edge-1/.test(l.message))).to.equal(true);
    expect(host.logLines.some((l) => l.level === 'warn' && /their PodDisruptionBudgets not respected \(--force\): default\/guarded/.test(l.message))).to.equal(
      true,
    );
  });

  it('resumes after the phases the journal lists as done', async () => {
    const api = new MemoryKubeApi().addNode('edge-1').addPod({ name: 'web', node: 'edge-1', controller: 'ReplicaSet' });
    const { host, make } = await installedNode(api);
    await host.forStep('kube.kubelet').changes.record(TEARDOWN_RECORD, { startedAt: '2026-11-01T09:00:00.000Z', node: 'edge-1', done: ['drain'] });
    await make({ command: 'unbootstrap' }).uninstall();
    expect(
      api.calls.filter((c) => /^(PATCH|EVICT|LIST)/.test(c)),
      'the drain is not done twice',
    ).to.deep.equal([]);
    expect(api.podNames('edge-1'), 'not evicted').to.deep.equal(['default/web']);
    expect(api.nodes.has('edge-1')).to.equal(false);
    expect(host.logLines.some((l) => /resuming the unbootstrap of Node edge-1 begun 2026-11-01T09:00:00.000Z, after: drain/.test(l.message))).to.equal(true);
  });

  it('bootstrap after an unfinished unbootstrap takes the node back: uncordoned, the record gone, healthy', async () => {
    const api = pods(new MemoryKubeApi().addNode('edge-1'));
    const { host, make } = await installedNode(api);
    await make({ command: 'unbootstrap' })
      .uninstall()
      .catch(() => undefined);
    const again = make({ command: 'bootstrap' });
    await again.install();
    expect(api.nodes.get('edge-1')!.spec.unschedulable).to.equal(undefined);
    expect(record(host)).to.equal(undefined);
    expect(await again.check()).to.deep.include({ status: 'ok' });
  });

  it('an unreachable API server stops the unbootstrap unless --force', async () => {
    const api = new MemoryKubeApi().addNode('edge-1');
    const { host, make, operatorCalls } = await installedNode(api);
    api.unreachable = true;
    const error = (await make({ command: 'unbootstrap' })
      .uninstall()
      .catch((e: unknown) => e)) as Error & { hint?: string };
    expect(error.message).to.match(/cannot drain Node edge-1: connect ECONNREFUSED/);
    expect(error.hint).to.match(/--force` goes on without draining/);
    await make({ command: 'unbootstrap', force: true }).uninstall();
    // The Node could not be deleted by the node nor by the operator: said, not hidden.
    expect(operatorCalls).to.deep.equal(['DELETE /api/v1/nodes/edge-1']);
    expect(host.logLines.some((l) => /Node edge-1/.test(l.message) && /ECONNREFUSED/.test(l.message))).to.equal(true);
  });
});

describe('honest health: the API server heard from within the grace, the Node Ready and not left cordoned', () => {
  it('unreachable: ok within apiServerGraceSeconds, then drifted with how long; healthy again when it answers', async () => {
    const api = new MemoryKubeApi().addNode('edge-1');
    const host = new MemoryHost();
    seedKubeconfig(host);
    let now = Date.parse('2026-11-01T10:00:00Z');
    const cfg = testConfig({ node: { name: 'edge-1' }, pluginConfig: { '@flexnode/plugin-kube': { apiServerGraceSeconds: 60 } } });
    const step = createKubeletStep({
      readCluster: fakeReader(),
      nodeApi: () => api,
      machine: async () => ({ cpus: 2, memoryBytes: 4 * 2 ** 30 }),
      routeSource: async () => '192.0.2.10',
      sleep: async () => undefined,
      now: () => new Date(now),
    }).create({ host: host.forStep('kube.kubelet'), config: cfg, ...serviceDeps() });
    await step.install();
    // `status` runs read-only: its Host is a dry run of the same machine, and it keeps its note all the same.
    const status = createKubeletStep({
      readCluster: fakeReader(),
      nodeApi: () => api,
      machine: async () => ({ cpus: 2, memoryBytes: 4 * 2 ** 30 }),
      routeSource: async () => '192.0.2.10',
      now: () => new Date(now),
    }).create({ host: host.forStep('kube.kubelet', { dryRun: true }), config: cfg, ...serviceDeps({ command: 'status' }) });
    const first = await status.check();
    expect(first, JSON.stringify(first)).to.deep.include({ status: 'ok' });
    api.unreachable = true;
    now += 30_000;
    const within = await status.check();
    expect(within.status === 'ok' && within.detail).to.match(/not reachable from here .*for 30 s of the 60 s grace/);
    now += 45_000;
    const after = await status.check();
    expect(after.status === 'drifted' && after.reason).to.match(/no answer for 75 s \(since 2026-11-01T10:00:00.000Z\), more than the 60 s grace/);
    api.unreachable = false;
    expect(await status.check()).to.deep.include({ status: 'ok' });
    api.nodes.get('edge-1')!.status.conditions[0] = { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime is down' };
    const notReady = await status.check();
    expect(notReady.status === 'drifted' && notReady.reason).to.match(/Node edge-1 is not Ready \(KubeletNotReady: container runtime is down\)/);
  });

  it("a Node an upgrade left cordoned is unhealthy outside that upgrade's own run, and a bootstrap uncordons it", async () => {
    const api = new MemoryKubeApi().addNode('edge-1');
    const { make } = await installedNode(api);
    await api.patch('edge-1', {
      spec: { unschedulable: true },
      metadata: { annotations: { 'flexnode.io/cordoned-by': 'upgrade', 'flexnode.io/cordoned-at': 'T' } },
    });
    const status = await make({ command: 'status' }).check();
    expect(status.status === 'drifted' && status.reason).to.match(
      /cordoned by a flexnode upgrade that did not finish \(T\): `flexnode upgrade` finishes or rolls it back/,
    );
    expect(await make({ command: 'upgrade' }).check()).to.deep.include({ status: 'ok' });
    const bootstrap = make({ command: 'bootstrap' });
    await bootstrap.install();
    expect(api.nodes.get('edge-1')!.spec.unschedulable).to.equal(undefined);
  });
});

describe('teardown pieces', () => {
  it('bridge networks come from the CNI configs; the NAT rules of their pods go, every other rule and chain stays', async () => {
    const host = new MemoryHost();
    host.seedFile(
      '/etc/cni/net.d/99-bridge.conflist',
      JSON.stringify({ name: 'flexnode-bridge', plugins: [{ type: 'bridge', bridge: 'cni0' }, { type: 'portmap' }] }),
    );
    host.seedFile('/etc/cni/net.d/10-other.conflist', JSON.stringify({ name: 'calico', plugins: [{ type: 'calico' }] }));
    expect(await bridgeNetworks(host.forStep('kube.kubelet'), '/etc/cni/net.d')).to.deep.equal([{ bridge: 'cni0', network: 'flexnode-bridge' }]);
    const listing = [
      '-P PREROUTING ACCEPT',
      '-N CNI-HOSTPORT-DNAT',
      '-N CNI-aaaa',
      '-N CNI-bbbb',
      '-N CNI-other',
      '-N DOCKER',
      '-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT',
      '-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE',
      '-A POSTROUTING -s 10.88.0.2/32 -m comment --comment "name: \\"flexnode-bridge\\" id: \\"c1\\"" -j CNI-aaaa',
      '-A POSTROUTING -s 10.99.0.2/32 -m comment --comment "name: \\"podman\\" id: \\"x\\"" -j CNI-other',
      '-A POSTROUTING -s 10.88.0.3/32 -m comment --comment "name: \\"flexnode-bridge\\" id: \\"c2\\"" -j CNI-bbbb',
      '-A CNI-aaaa -d 10.88.0.0/24 -m comment --comment "name: \\"flexnode-bridge\\" id: \\"c1\\"" -j ACCEPT',
      '-A CNI-aaaa ! -d 224.0.0.0/4 -m comment --comment "name: \\"flexnode-bridge\\" id: \\"c1\\"" -j MASQUERADE',
      '-A CNI-bbbb ! -d 224.0.0.0/4 -m comment --comment "name: \\"flexnode-bridge\\" id: \\"c2\\"" -j MASQUERADE',
      '-A CNI-other ! -d 224.0.0.0/4 -m comment --comment "name: \\"podman\\" id: \\"x\\"" -j MASQUERADE',
    ].join('\n');
    const ran: string[] = [];
    const iptables: ExecHandler = (args) => {
      ran.push(args.join(' '));
      return { exitCode: 0, stdout: args.includes('-S') ? listing : '', stderr: '' };
    };
    host.onExec('iptables', iptables);
    expect(await removeCniNatRules(host.forStep('kube.kubelet'), ['flexnode-bridge'])).to.deep.equal(['iptables nat CNI-aaaa', 'iptables nat CNI-bbbb']);
    expect(ran.filter((r) => !r.includes('-S'))).to.deep.equal([
      '-w -t nat -D POSTROUTING 4', // the higher position first: the other keeps its number
      '-w -t nat -D POSTROUTING 2',
      '-w -t nat -F CNI-aaaa',
      '-w -t nat -X CNI-aaaa',
      '-w -t nat -F CNI-bbbb',
      '-w -t nat -X CNI-bbbb',
    ]);
  });

  it("mount points: the kernel's escapes undone", () => {
    const info = '36 35 98:0 / /var/lib/kubelet/pods/u1/volumes/kubernetes.io~secret/my\\040vol rw - tmpfs tmpfs rw\n37 35 98:0 / /mnt rw - ext4 /dev/x rw\n';
    expect(mountPoints(info)).to.deep.equal(['/var/lib/kubelet/pods/u1/volumes/kubernetes.io~secret/my vol', '/mnt']);
  });
});
