// Node in a box, the full cycle, in both ways the kubelet authenticates: a booted Debian machine with real systemd,
// where the real CLI bootstraps the whole node (preflight, OS prerequisites, runc/containerd and the CNI plugins for
// real from the host-side mirror, Arc registration against the FAKE ARM and FAKE Entra, the kubelet STAND-IN under
// systemd talking to the FAKE Kubernetes API, which authorizes as AKS does), re-runs converged, runs a pod's calls,
// and unbootstraps to the pristine tree.
//  - arc-msi: tokens from the FAKE Arc HIMDS; guard authorizes them against flexnode's custom node roles only.
//  - bootstrap-token: the stand-in TLS-bootstraps with the token flexnode made as the operator, then runs as
//    system:node:<name> under the Node authorizer.
// Only Azure, the API server, azcmagent and the kubelet are fakes or stand-ins: nothing else here can be had.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeArm, ROLE_IDS } from '../fakes/fake-arm.js';
import { FakeEntra } from '../fakes/fake-entra.js';
import { FakeHimds } from '../fakes/fake-himds.js';
import { FakeKubeApi } from '../fakes/fake-kube-api.js';
import { installStandin, standinPath } from '../fakes/standins/install.js';
import { diffSnapshots, startMachine, type Machine } from '../machine/machine.js';
import { skipUnlessMachineSupported } from '../machine/probe.js';
import { isEmptyDiff } from '../machine/snapshot.js';
import { buildArtifacts } from '../mirror/build-artifacts.js';
import { startMirror, type MirrorServer } from '../mirror/mirror-server.js';
import { buildEchoImage, buildPodImage, POD_IMAGE } from '../mirror/oci-image.js';
import { kubeClient } from '../fakes/kube/client.test.helpers.js';
import { repoRoot } from '../mirror/paths.js';
import { CONFIG_PATH, explain, flexnode, writeConfig } from './cli-in-machine.js';
import { nodeConfig, SUBSCRIPTION, TENANT } from './node-config.js';

const KUBE_VERSION = '1.30.4';
const AGENT_VERSION = '1.50.02997.1';
const NODE = 'box-node';
const MC = 'Microsoft.ContainerService/managedClusters';
type Mode = 'arc-msi' | 'bootstrap-token';
/** The Arc steps that apply: in bootstrap-token mode the node identity gets no role on the cluster. */
const ARC_STEPS: Record<Mode, string[]> = {
  'arc-msi': ['arc.preflight', 'arc.agent', 'arc.connect', 'arc.node-role', 'arc.roles'],
  'bootstrap-token': ['arc.preflight', 'arc.agent', 'arc.connect'],
};
const CLIENT_ID = 'cccccccc-0000-0000-0000-0000000000a1';
const CLIENT_SECRET = 'e2e~Full.cycle-s3cret-never-printed';
const CA_IN_MACHINE = '/etc/flexnode-e2e/fakes-ca.pem';
// Written by anything that runs (logs, journald, systemd's own state), or by the kubelet and containerd
// themselves at run time (the kubelet's serving pair, and its pods' volume directory, as the real kubelet makes
// them): not flexnode's files.
const NOISE = ['/var/log', '/var/lib/systemd', '/var/cache', '/etc/machine-id', '/var/lib/containerd', '/var/tmp', '/root/.npm', '/root/.cache', '/var/lib/kubelet/pki', '/var/lib/kubelet/pods'];

for (const mode of ['arc-msi', 'bootstrap-token'] as const) describe(`node in a box: the full cycle (bootstrap, converge, unbootstrap) with Arc and the kubelet, kubernetes.auth ${mode}`, function () {
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
  let clusterId = '';

  before(async function () {
    this.timeout(900_000);
    await skipUnlessMachineSupported(this);
    work = mkdtempSync(join(tmpdir(), 'flexnode-full-'));
    const keyDir = join(work, 'himds-keys');
    mkdirSync(keyDir, { mode: 0o700 });
    machine = await startMachine({ name: mode === 'arc-msi' ? 'full' : 'fullbt', bindRepo: true, binds: [{ host: keyDir, machine: '/var/opt/azcmagent/tokens' }] });
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
    const cluster = arm.addCluster({
      subscriptionId: SUBSCRIPTION,
      resourceGroup: 'rg-aks',
      name: 'aks-1',
      kube, // guard checks the node identity's requests against the role assignments flexnode makes here
      kubernetesVersion: KUBE_VERSION,
      location: 'westus2',
      networkProfile: { serviceCidr: '10.96.0.0/16', dnsServiceIP: '10.96.0.10' },
    });
    // The operator may assign roles and define custom roles (Owner on the subscription is the fake's default) and
    // holds RBAC Admin in the cluster: it creates the bootstrap token and bindings, and deletes the Node on the way out.
    clusterId = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/${cluster.name}`;
    arm.grant(entra.clients[0]!.objectId, 'Azure Kubernetes Service RBAC Admin', clusterId);

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
      kubernetes: { ...(mode === 'bootstrap-token' ? { auth: mode } : {}), version: KUBE_VERSION, sha256: kubePins },
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

  it('joins the node, runs a pod\'s calls, converges on a re-run, and unbootstrap restores every file', async () => {
    const m = machine!;
    const k = kube!;
    const pristine = await m.snapshot(NOISE);

    const first = await flexnode(m, ['bootstrap', '--config', CONFIG_PATH, '--json'], env);
    expect(first.exitCode, await explain(m, first, 'kubelet.service')).to.equal(0);
    for (const unit of ['containerd.service', 'kubelet.service']) {
      expect((await m.exec(['systemctl', 'is-active', unit], { allowFailure: true })).stdout.trim(), unit).to.equal('active');
    }

    // The kubelet stand-in registers the Node and it becomes Ready; a 401/403 would have stopped the stand-in.
    const deadline = Date.now() + 60_000;
    while (k.readyCondition(NODE)?.status !== 'True' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    expect(k.readyCondition(NODE)?.status, await m.journal('kubelet.service')).to.equal('True');
    const principal = arm!.machine(NODE)?.principalId;
    expect(arm!.machine(NODE), 'Arc machine resource').to.not.equal(undefined);
    let bootstrapSecret = '';
    const kubeletUsers = () => [...new Set(k.audit.filter((e) => e.userAgent.startsWith('kubelet/')).map((e) => e.user))];
    if (mode === 'arc-msi') {
      // Every call as the Arc identity, authorized by guard against flexnode's node roles: no RBAC Admin anywhere.
      expect(kubeletUsers()).to.deep.equal([principal]);
      const roles = arm!.roleAssignments().filter((a) => a.principalId === principal).map((a) => a.roleDefinitionId.split('/').pop());
      expect(roles).to.include(ROLE_IDS.aksClusterUser).and.not.include(ROLE_IDS.aksRbacAdmin).and.not.include(ROLE_IDS.aksRbacClusterAdmin);
      expect(arm!.roleDefinitions().filter((d) => d.type === 'CustomRole').map((d) => d.roleName.split(' (')[0])).to.deep.equal(['flexnode node', 'flexnode node, namespace kube-node-lease']);
    } else {
      // A CSR as the bootstrap identity, approved and signed by the fake's CA; then everything as the node itself.
      const token = (await m.execOrThrow(['sh', '-c', "sed -n 's/^ *token: //p' /var/lib/kubelet/bootstrap-kubeconfig"])).stdout.trim();
      const id = token.split('.')[0];
      bootstrapSecret = token.split('.')[1]!;
      expect(bootstrapSecret).to.match(/^[a-z0-9]{16}$/);
      expect(kubeletUsers()).to.deep.equal([`system:bootstrap:${id}`, `system:node:${NODE}`]);
      const csr = k.objects('certificatesigningrequests.certificates.k8s.io')[0]!;
      expect(csr.spec).to.deep.include({ username: `system:bootstrap:${id}`, signerName: 'kubernetes.io/kube-apiserver-client-kubelet' });
      expect(arm!.roleAssignments().filter((a) => a.principalId === principal), 'the node identity needs no role').to.deep.equal([]);
      // The token's group may do nothing but create its CSR.
      const call = kubeClient(k);
      expect((await call('GET', '/api/v1/nodes', { token })).status).to.equal(403);
      expect((await call('GET', `/api/v1/namespaces/kube-system/secrets/bootstrap-token-${id}`, { token })).status).to.equal(403);
      expect((await call('POST', '/api/v1/namespaces/default/pods', { token }, { metadata: { name: 'x' }, spec: { containers: [{ name: 'c', image: 'i' }] } })).status).to.equal(403);
      // Its client certificate is a node's: another node's Lease and Node are denied by the Node authorizer.
      const pem = (await m.execOrThrow(['cat', '/var/lib/kubelet/pki/kubelet-client-current.pem'])).stdout;
      const cert = { certPem: pem.slice(0, pem.indexOf('-----END CERTIFICATE-----') + 26), keyPem: pem.slice(pem.indexOf('-----BEGIN EC PRIVATE KEY')) };
      k.apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'other-node' } });
      k.apply({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'other-node', namespace: 'kube-node-lease' }, spec: {} });
      const lease = await call('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/other-node', cert);
      expect(lease.json.message, lease.text).to.include(`User "system:node:${NODE}" cannot get resource "leases"`).and.include('can only access node lease with the same name as the requesting node');
      const node = await call('PATCH', '/api/v1/nodes/other-node', cert, { metadata: { labels: { taken: 'yes' } } }, 'application/merge-patch+json');
      expect(node.status, node.text).to.equal(403);
      k.deleteObject('nodes', '', 'other-node', { force: true });
    }
    const renewals = () => k.audit.filter((e) => e.resource === 'leases' && e.verb === 'update' && e.code < 300 && e.userAgent.startsWith('kubelet/')).length;
    const leaseDeadline = Date.now() + 25_000; // the kubelet renews every nodeStatusUpdateFrequency (10 s)
    while (renewals() === 0 && Date.now() < leaseDeadline) await new Promise((r) => setTimeout(r, 500));
    expect(renewals(), 'the Lease is renewed').to.be.greaterThan(0);

    // A pod bound to the node with a secret, a configmap and a service-account token: the stand-in fetches them as
    // the node's identity and runs it through the box's containerd.
    await buildPodImage(join(work, 'pod.tar'));
    await m.writeFile('/root/pod.tar', readFileSync(join(work, 'pod.tar')));
    await m.execOrThrow(['ctr', '-n', 'k8s.io', 'image', 'import', '/root/pod.tar']);
    await m.exec(['rm', '-f', '/root/pod.tar']);
    k.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app-secret', namespace: 'default' }, stringData: { password: 's3cret' } });
    k.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-settings', namespace: 'default' }, data: { 'app.conf': 'mode=edge\n' } });
    k.seedPod({ name: 'app', nodeName: NODE, phase: 'Pending', image: POD_IMAGE, spec: {
      containers: [{ name: 'main', image: POD_IMAGE, env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'app-secret', key: 'password' } } }],
        volumeMounts: [{ name: 'settings', mountPath: '/etc/app' }] }],
      volumes: [{ name: 'settings', configMap: { name: 'app-settings' } }] } });
    const podDeadline = Date.now() + 60_000;
    const phase = () => (k.pod('default', 'app')?.status as { phase?: string } | undefined)?.phase;
    while (phase() !== 'Running' && Date.now() < podDeadline) await new Promise((r) => setTimeout(r, 500));
    expect(phase(), await m.journal('kubelet.service')).to.equal('Running');
    const podCalls = k.audit.filter((e) => e.userAgent.startsWith('kubelet/') && e.code < 300).map((e) => `${e.verb} ${e.resource}${e.subresource ? `/${e.subresource}` : ''} ${e.name}`);
    expect(podCalls).to.include.members(['list secrets app-secret', 'list configmaps app-settings', 'create serviceaccounts/token default', 'patch pods/status app']);
    expect(k.denials().filter((e) => e.userAgent.startsWith('kubelet/')).map((e) => `${e.code} ${e.verb} ${e.path}: ${e.message}`), 'no call of the kubelet was refused').to.deep.equal([]);
    // Deleted gracefully: the stand-in stops its container and deletes it with its own identity.
    k.deleteObject('pods', 'default', 'app');
    while (k.pod('default', 'app') && Date.now() < podDeadline + 30_000) await new Promise((r) => setTimeout(r, 500));
    expect(k.pod('default', 'app'), 'the pod deleted by its kubelet').to.equal(undefined);

    // Real containerd and runc run a locally imported image; the CNI config gives a pod an address.
    const image = await buildEchoImage(join(work, 'echo.tar'));
    await m.writeFile('/root/echo.tar', readFileSync(join(work, 'echo.tar')));
    await m.execOrThrow(['ctr', '-n', 'default', 'image', 'import', '/root/echo.tar'], { unit: 'containerd.service' });
    expect((await m.execOrThrow(['ctr', '-n', 'default', 'run', '--rm', image, 'e2e-echo'])).stdout).to.contain('hello from a container');
    await m.execOrThrow(['ctr', '-n', 'default', 'image', 'rm', image]);
    await m.exec(['rm', '-f', '/root/echo.tar']);
    const runner = `${repoRoot()}/packages/plugin-cni/dist/cni-chain.test.runner.js`;
    const pod = JSON.parse((await m.execOrThrow(['unshare', '--net', '--mount', '--fork', 'node', runner, '/etc/cni/net.d/99-bridge.conflist', '/opt/cni/bin'])).stdout);
    expect(pod.added?.eth0?.[0]?.local, JSON.stringify(pod)).to.match(/^10\.88\.0\.\d+$/);

    // Converged: nothing changes (no role definition or assignment written, no token made), and quickly.
    const writesToAzure = () => arm!.requests.filter((r) => r.method !== 'GET' && !r.path.startsWith('/__fake')).length;
    const azureWrites = writesToAzure();
    const secrets = k.objects('secrets', 'kube-system').length;
    const again = await flexnode(m, ['bootstrap', '--config', CONFIG_PATH, '--json'], env);
    expect(again.exitCode, await explain(m, again)).to.equal(0);
    const rerun = JSON.parse(again.stdout) as { elapsedMs: number; results: { id: string; outcome: string; durationMs: number }[] };
    console.log(`      converged re-run: step work ${rerun.elapsedMs} ms (${rerun.results.map((r) => `${r.id} ${r.durationMs} ms`).join(', ')})`);
    expect(rerun.results.filter((r) => r.outcome !== 'unchanged').map((r) => r.id)).to.deep.equal([]);
    expect(writesToAzure(), 'Azure writes on a converged re-run').to.equal(azureWrites);
    expect(k.objects('secrets', 'kube-system').length, 'no new bootstrap token').to.equal(secrets);
    if (bootstrapSecret) {
      // Only the kubelet's 0600 bootstrap kubeconfig holds the token: not flexnode's journal, backups or logs.
      const holding = await m.exec(['grep', '-rl', bootstrapSecret, '/var/lib/flexnode', '/var/log/aks-flex-node', '/var/lib/kubelet', '/etc'], { allowFailure: true });
      expect(holding.stdout.trim().split('\n')).to.deep.equal(['/var/lib/kubelet/bootstrap-kubeconfig']);
    }

    // The operator's credential is for changes only: a careful operator removes it after the join. Status and the
    // agent's cycles then work from the journal and the node's own identity, with no operator token issued.
    const withoutOperator = JSON.parse(JSON.stringify(config)) as Record<string, any>;
    delete withoutOperator.azure.servicePrincipal;
    await writeConfig(m, withoutOperator);
    await m.execOrThrow(['rm', '/etc/aks-flex-node/client-secret']);
    const tokens = entra!.issued.length;
    const status = await flexnode(m, ['status', '--config', CONFIG_PATH, '--json'], env);
    const health = JSON.parse(status.stdout) as { results: { id: string; outcome: string; error?: { message: string }; check?: { reason?: string } }[] };
    const why = (r: (typeof health.results)[number]) => `${r.id}: ${r.outcome} ${r.error?.message ?? r.check?.reason ?? ''}`;
    expect(health.results.filter((r) => r.outcome !== 'healthy').map(why), 'every step healthy without the operator credential').to.deep.equal([]);
    const kubeSteps = ['kube.version', 'kube.binaries', 'kube.cluster-credentials', ...(mode === 'bootstrap-token' ? ['kube.node-bootstrap'] : []), 'kube.kubelet'];
    expect(health.results.map((r) => r.id)).to.include.members([...ARC_STEPS[mode], ...kubeSteps]);
    if (mode === 'bootstrap-token') expect(health.results.map((r) => r.id)).to.not.include.members(['arc.roles', 'arc.node-role']);
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
    if (mode === 'arc-msi') {
      // A role that misses one action the kubelet needs (the README's earlier suggestion lacked service-account
      // tokens): the kubelet's TokenRequest for the next pod is refused, with guard's exact reason.
      const node = arm!.roleDefinitions().find((d) => d.type === 'CustomRole' && d.roleName.startsWith('flexnode node ('))!;
      arm!.addRoleDefinition({ id: node.id, roleName: node.roleName, assignableScopes: node.assignableScopes,
        permissions: [{ dataActions: node.permissions[0]!.dataActions.filter((a) => a !== `${MC}/serviceaccounts/write`) }] });
      k.seedPod({ name: 'app-2', nodeName: NODE, phase: 'Pending', image: POD_IMAGE });
      const end = Date.now() + 30_000;
      const refusal = () => k.denials().find((e) => e.resource === 'serviceaccounts' && e.subresource === 'token');
      while (!refusal() && Date.now() < end) await new Promise((r) => setTimeout(r, 300));
      expect(refusal(), await m.journal('kubelet.service')).to.deep.include({ code: 403, user: principal, verb: 'create' });
      expect(refusal()!.message).to.equal(`serviceaccounts "default" is forbidden: User "${principal}" cannot create resource "serviceaccounts/token" in API group "" in the namespace "default": Access denied for action: ${MC}/serviceaccounts/write`);
    }

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
    expect(k.nodes().map((n: { metadata: { name: string } }) => n.metadata.name), `${undo.stdout}\n${undo.stderr}`).to.not.include(NODE);
    expect(arm!.machine(NODE), 'Arc machine resource deleted').to.equal(undefined);
    expect(arm!.roleAssignments().filter((a) => a.principalId === principal), 'role assignments deleted').to.deep.equal([]);
    expect(arm!.roleDefinitions().filter((d) => d.type === 'CustomRole'), 'custom roles deleted').to.deep.equal([]);
    expect(k.objects('secrets', 'kube-system').filter((x) => x.type === 'bootstrap.kubernetes.io/token'), 'bootstrap tokens deleted').to.deep.equal([]);
    expect(k.objects('clusterrolebindings.rbac.authorization.k8s.io').map((b) => b.metadata.name).filter((n) => n.startsWith('flexnode:')), 'bindings deleted').to.deep.equal([]);
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
    // The kubelet's own credentials went with the node (bootstrap-token mode: its key and certificates).
    expect((await m.exec(['sh', '-c', 'ls /var/lib/kubelet/pki/kubelet-client-* /var/lib/kubelet/kubeconfig 2>/dev/null'], { allowFailure: true })).stdout.trim()).to.equal('');

    // The client secret and the bootstrap token's secret were never printed, nor journaled.
    for (const out of [first, again, status, agent, refused, undo]) expect(out.stdout + out.stderr).to.not.contain(CLIENT_SECRET);
    if (bootstrapSecret) {
      for (const out of [first, again, status, agent, refused, undo]) expect(out.stdout + out.stderr).to.not.contain(bootstrapSecret);
    }
  });
});
