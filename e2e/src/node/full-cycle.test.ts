// Node in a box, the full cycle: a booted Debian machine with real systemd, where the real CLI bootstraps the
// whole node (preflight, OS prerequisites, runc/containerd and the CNI plugins for real from the host-side
// mirror, Arc registration and role assignments against the FAKE ARM and FAKE Entra, the kubelet STAND-IN under
// systemd authenticating with tokens from the FAKE Arc HIMDS to the FAKE Kubernetes API), re-runs converged,
// and unbootstraps to the pristine tree. Only Azure, the API server, azcmagent and the kubelet are fakes or
// stand-ins: nothing else here can be had on these machines.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeArm } from '../fakes/fake-arm.js';
import { FakeEntra } from '../fakes/fake-entra.js';
import { FakeHimds } from '../fakes/fake-himds.js';
import { FakeKubeApi } from '../fakes/fake-kube-api.js';
import { installStandin, standinPath } from '../fakes/standins/install.js';
import { diffSnapshots, startMachine, type Machine } from '../machine/machine.js';
import { skipUnlessMachineSupported } from '../machine/probe.js';
import { isEmptyDiff } from '../machine/snapshot.js';
import { buildArtifacts } from '../mirror/build-artifacts.js';
import { startMirror, type MirrorServer } from '../mirror/mirror-server.js';
import { buildEchoImage } from '../mirror/oci-image.js';
import { CONFIG_PATH, explain, flexnode, writeConfig } from './cli-in-machine.js';
import { nodeConfig, SUBSCRIPTION, TENANT } from './node-config.js';

const KUBE_VERSION = '1.30.4';
const AGENT_VERSION = '1.50.02997.1';
const NODE = 'box-node';
const ARC_STEPS = ['arc.preflight', 'arc.agent', 'arc.connect', 'arc.roles'];
const CLIENT_ID = 'cccccccc-0000-0000-0000-0000000000a1';
const CLIENT_SECRET = 'e2e~Full.cycle-s3cret-never-printed';
const CA_IN_MACHINE = '/etc/flexnode-e2e/fakes-ca.pem';
// Written by anything that runs (logs, journald, systemd's own state), or by the kubelet and containerd
// themselves at run time: not flexnode's files.
const NOISE = ['/var/log', '/var/lib/systemd', '/var/cache', '/etc/machine-id', '/var/lib/containerd', '/var/tmp', '/root/.npm', '/root/.cache', '/var/lib/kubelet/pki'];

describe('node in a box: the full cycle (bootstrap, converge, unbootstrap) with Arc and the kubelet', function () {
  this.timeout(600_000);
  let machine: Machine | undefined;
  let mirror: MirrorServer | undefined;
  let arm: FakeArm | undefined;
  let entra: FakeEntra | undefined;
  let himds: FakeHimds | undefined;
  let kube: FakeKubeApi | undefined;
  let work = '';
  let env: Record<string, string> = {};
  let config: Record<string, any> = {};

  before(async function () {
    this.timeout(900_000);
    await skipUnlessMachineSupported(this);
    work = mkdtempSync(join(tmpdir(), 'flexnode-full-'));
    const keyDir = join(work, 'himds-keys');
    mkdirSync(keyDir, { mode: 0o700 });
    machine = await startMachine({ name: 'full', bindRepo: true, binds: [{ host: keyDir, machine: '/var/opt/azcmagent/tokens' }] });
    const host = machine.hostAddress; // the machine cannot reach the host's loopback
    // The node identity is the Arc machine's: HIMDS tokens carry the principalId ARM gave the machine on connect.
    himds = await FakeHimds.start({ keyDir, host, tenantId: TENANT, principalId: () => arm?.machine(NODE)?.principalId });
    kube = await FakeKubeApi.start({ host, version: `v${KUBE_VERSION}` });
    entra = await FakeEntra.start({ host, clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }], tenantId: TENANT });
    arm = await FakeArm.start({
      host,
      tenantId: TENANT,
      acceptToken: (t) => {
        const issued = entra!.lookup(t);
        return issued ? { appId: issued.clientId, objectId: issued.objectId } : false;
      },
    });
    arm.addCluster({
      subscriptionId: SUBSCRIPTION,
      resourceGroup: 'rg-aks',
      name: 'aks-1',
      kube, // guard checks the node identity's requests against the role assignments flexnode makes here
      kubernetesVersion: KUBE_VERSION,
      location: 'westus2',
      networkProfile: { serviceCidr: '10.96.0.0/16', dnsServiceIP: '10.96.0.10' },
    });

    // The mirror: Debian's runtime in the upstream layout, plus the stand-ins where upstream ships binaries.
    const manifest = await buildArtifacts();
    const bins = join(work, 'bins');
    installStandin('kubelet', join(bins, 'kubelet'), { kubeletVersion: KUBE_VERSION });
    for (const b of ['kubectl', 'kubeadm']) writeFileSync(join(bins, b), `#!/bin/sh\necho "${b} stand-in"\n`, { mode: 0o755 });
    const kubePins: Record<string, string> = {};
    for (const b of ['kubelet', 'kubectl', 'kubeadm']) {
      kubePins[b] = (await manifest.addFile(`kubernetes/v${KUBE_VERSION}/${b}-linux-${manifest.arch}`, join(bins, b))).sha256;
    }
    const agent = await manifest.addFile(`azcmagent/v${AGENT_VERSION}/azcmagent-linux-${manifest.arch}`, standinPath('azcmagent'));
    mirror = await startMirror(manifest, { host });

    await machine.exec(['mkdir', '-p', '/etc/flexnode-e2e']);
    await machine.writeFile(CA_IN_MACHINE, readFileSync(arm.certPath));
    await machine.exec(['mkdir', '-p', '-m', '0700', '/etc/aks-flex-node']);
    await machine.writeFile('/etc/aks-flex-node/client-secret', CLIENT_SECRET, 0o600);
    config = nodeConfig(manifest, mirror.url, {
      kubernetes: { version: KUBE_VERSION, sha256: kubePins },
      node: { name: NODE, labels: { 'flexnode.io/pool': 'edge' } },
      pluginConfig: {
        // nspawn keeps non-network sysctls read-only (they would reach the host): the kernel-wide settings the
        // kubelet's protectKernelDefaults needs cannot be set in the box; the unshare tier tests that step.
        '@flexnode/plugin-kube': { protectKernelDefaults: false, kernelTuning: false },
        '@flexnode/plugin-arc': {
          agent: { source: 'binary', version: AGENT_VERSION, sha256: agent.sha256 },
          retry: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 },
          pollIntervalMs: 50,
          identityTimeoutSeconds: 20,
          propagationTimeoutSeconds: 5,
        },
      },
    });
    config.azure.arc.machineName = NODE;
    config.azure.servicePrincipal = { clientId: CLIENT_ID, clientSecretFile: '/etc/aks-flex-node/client-secret' };
    config.azure.endpoints = { resourceManager: arm.url, authorityHost: entra.url };
    await writeConfig(machine, config);
    // What the Arc agent provides a real node (its identity endpoint), and the stand-in's own wiring.
    env = {
      NODE_EXTRA_CA_CERTS: CA_IN_MACHINE,
      ...himds.env(),
      AZCMAGENT_STANDIN_ARM: arm.url,
      AZCMAGENT_STANDIN_STATE: '/run/azcmagent-standin.json',
    };
  });

  after(async () => {
    await machine?.stop();
    await Promise.all([mirror?.close(), arm?.stop(), entra?.stop(), himds?.stop(), kube?.stop()].map((p) => p?.catch(() => undefined)));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('joins the node, converges on a re-run, and unbootstrap restores every file', async () => {
    const m = machine!;
    const pristine = await m.snapshot(NOISE);

    const first = await flexnode(m, ['bootstrap', '--config', CONFIG_PATH, '--json'], env);
    expect(first.exitCode, await explain(m, first, 'kubelet.service')).to.equal(0);
    for (const unit of ['containerd.service', 'kubelet.service']) {
      expect((await m.exec(['systemctl', 'is-active', unit], { allowFailure: true })).stdout.trim(), unit).to.equal('active');
    }

    // The kubelet stand-in registers the Node with a HIMDS token through `flexnode token`; it becomes Ready. Guard
    // authorizes every call against the roles flexnode assigned (a 401/403 would have stopped the stand-in).
    const deadline = Date.now() + 60_000;
    while (kube!.readyCondition(NODE)?.status !== 'True' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    expect(kube!.readyCondition(NODE)?.status, await m.journal('kubelet.service')).to.equal('True');
    const principal = arm!.machine(NODE)?.principalId;
    expect(kube!.audit.filter((e) => e.resource === 'leases' && e.code < 300).map((e) => e.user), 'the Lease is renewed as the Arc identity').to.include(principal);
    expect(kube!.denials().filter((e) => e.userAgent.startsWith('kubelet/')).map((e) => `${e.code} ${e.verb} ${e.path}: ${e.message}`),
      'no call of the kubelet was refused').to.deep.equal([]);
    expect(arm!.machine(NODE), 'Arc machine resource').to.not.equal(undefined);
    expect(arm!.roleAssignments().length, 'role assignments for the node identity').to.be.at.least(1);

    // Real containerd and runc run a locally imported image; the CNI config gives a pod an address.
    const image = await buildEchoImage(join(work, 'echo.tar'));
    await m.writeFile('/root/echo.tar', readFileSync(join(work, 'echo.tar')));
    await m.execOrThrow(['ctr', '-n', 'default', 'image', 'import', '/root/echo.tar'], { unit: 'containerd.service' });
    expect((await m.execOrThrow(['ctr', '-n', 'default', 'run', '--rm', image, 'e2e-echo'])).stdout).to.contain('hello from a container');
    await m.execOrThrow(['ctr', '-n', 'default', 'image', 'rm', image]);
    await m.exec(['rm', '-f', '/root/echo.tar']);
    // plugin-cni's own runner (the repository is bound into the machine at the same path).
    const runner = fileURLToPath(import.meta.resolve('@flexnode/plugin-cni/test-support/cni-chain-runner'));
    const pod = JSON.parse((await m.execOrThrow(['unshare', '--net', '--mount', '--fork', 'node', runner, '/etc/cni/net.d/99-bridge.conflist', '/opt/cni/bin'])).stdout);
    expect(pod.added?.eth0?.[0]?.local, JSON.stringify(pod)).to.match(/^10\.88\.0\.\d+$/);

    // Converged: nothing changes, and the steps' own work is well under a second.
    const again = await flexnode(m, ['bootstrap', '--config', CONFIG_PATH, '--json'], env);
    expect(again.exitCode, await explain(m, again)).to.equal(0);
    const rerun = JSON.parse(again.stdout) as { elapsedMs: number; results: { id: string; outcome: string; durationMs: number }[] };
    console.log(`      converged re-run: step work ${rerun.elapsedMs} ms (${rerun.results.map((r) => `${r.id} ${r.durationMs} ms`).join(', ')})`);
    expect(rerun.results.filter((r) => r.outcome !== 'unchanged').map((r) => r.id)).to.deep.equal([]);

    // The operator's credential is for changes only: a careful operator removes it after the join. Status and the
    // agent's cycles then work from the journal and the node's own Arc identity, with no operator token issued.
    const withoutOperator = JSON.parse(JSON.stringify(config)) as Record<string, any>;
    delete withoutOperator.azure.servicePrincipal;
    await writeConfig(m, withoutOperator);
    await m.execOrThrow(['rm', '/etc/aks-flex-node/client-secret']);
    const tokens = entra!.issued.length;
    const status = await flexnode(m, ['status', '--config', CONFIG_PATH, '--json'], env);
    const health = JSON.parse(status.stdout) as { results: { id: string; outcome: string; error?: { message: string }; check?: { reason?: string } }[] };
    const why = (r: (typeof health.results)[number]) => `${r.id}: ${r.outcome} ${r.error?.message ?? r.check?.reason ?? ''}`;
    expect(health.results.filter((r) => r.outcome !== 'healthy').map(why), 'every step healthy without the operator credential').to.deep.equal([]);
    expect(health.results.map((r) => r.id)).to.include.members([...ARC_STEPS, 'kube.version', 'kube.binaries', 'kube.cluster-credentials', 'kube.kubelet']);
    expect(status.exitCode, status.stderr).to.equal(0);
    expect(status.stdout + status.stderr).to.not.contain(CLIENT_SECRET);
    // The agent's cycles stay healthy too (its bootstrap finds everything converged, then checks).
    const agent = await flexnode(m, ['agent', '--config', CONFIG_PATH, '--max-cycles', '2', '--interval-ms', '200'], env);
    expect(agent.exitCode, await explain(m, agent)).to.equal(0);
    const seen = JSON.parse((await m.execOrThrow(['cat', '/var/lib/flexnode/status.json'])).stdout) as { cycles: number; healthy: boolean; steps: Record<string, { state: string }> };
    expect(seen.cycles).to.be.at.least(3);
    expect(seen.healthy, JSON.stringify(seen.steps)).to.equal(true);
    for (const r of health.results) expect(seen.steps[r.id]?.state, r.id).to.equal('ok');
    await m.execOrThrow(['rm', '/var/lib/flexnode/status.json']); // the agent's own file (uninstall.sh removes it)
    expect(entra!.issued.length, 'tokens issued to the operator without its credential').to.equal(tokens);
    // Unbootstrap needs it, says so, and leaves Azure and the agent as they are.
    const refused = await flexnode(m, ['unbootstrap', '--config', CONFIG_PATH], env);
    expect(refused.exitCode, await explain(m, refused)).to.equal(1);
    expect(refused.stdout + refused.stderr).to.include("needs the operator's Azure credential").and.include('azure.servicePrincipal');
    expect(arm!.machine(NODE), 'the Arc machine is kept until it can be deleted').to.not.equal(undefined);
    expect((await m.exec(['test', '-x', '/opt/azcmagent/bin/azcmagent'], { allowFailure: true })).exitCode, 'the agent holding the registration').to.equal(0);
    // Given back, unbootstrap finishes.
    await writeConfig(m, config);
    await m.writeFile('/etc/aks-flex-node/client-secret', CLIENT_SECRET, 0o600);

    const undo = await flexnode(m, ['unbootstrap', '--config', CONFIG_PATH, '--json'], env);
    expect(undo.exitCode, await explain(m, undo, 'kubelet.service')).to.equal(0);
    expect(kube!.nodes().map((n: { metadata: { name: string } }) => n.metadata.name)).to.not.include(NODE);
    expect(arm!.machine(NODE), 'Arc machine resource deleted').to.equal(undefined);
    for (const unit of ['containerd.service', 'kubelet.service']) {
      expect((await m.exec(['systemctl', 'is-active', unit], { allowFailure: true })).stdout.trim(), unit).to.not.equal('active');
    }
    const after = await m.snapshot(NOISE);
    const diff = diffSnapshots(pristine, after);
    // A directory left only because the kubelet put its own run-time files in it (the stand-in, like the real
    // kubelet, writes /var/lib/kubelet/pki/kubelet.{crt,key}) is not flexnode's: it may not delete data it did not
    // create. An empty directory, or one with anything but such files, still fails the test.
    const kubeletOnly = async (dir: string) => after.get(dir)?.type === 'dir' && ![...after.keys()].some((p) => p.startsWith(`${dir}/`))
      && (await m.exec(['ls', '-A', dir], { allowFailure: true })).stdout.trim() !== '';
    diff.added = (await Promise.all(diff.added.map(async (p) => ((await kubeletOnly(p)) ? undefined : p)))).filter((p): p is string => !!p);
    expect(isEmptyDiff(diff), JSON.stringify(diff, null, 2)).to.equal(true);

    // The client secret was never printed.
    for (const out of [first, again, status, agent, refused, undo]) expect(out.stdout + out.stderr).to.not.contain(CLIENT_SECRET);
  });
});
