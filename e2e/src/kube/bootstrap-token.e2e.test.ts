// kubernetes.auth "bootstrap-token" END TO END on the REAL Host over a temp root: kube.node-bootstrap creates, as the
// operator (an Entra user with an Azure RBAC role, authorized by the fake API server's guard), flexnode's bindings and
// a short-lived bootstrap token; the kubelet STAND-IN, started with the drop-in's exact ExecStart, creates its CSR as
// the bootstrap identity, gets it approved and signed by the fake's CA, and continues as system:node:<name>, which
// the fake's Node authorizer keeps to its own objects. The token's group can do nothing else. Before the kubelet has a
// certificate, kube.pod-cidr registers the Node as the operator (an Azure CNI Overlay cluster gives it its /24) and the
// bridge is written with that range; kube.node then reads and labels the Node with the kubelet's certificate. kube-proxy
// (the mode `auto` resolves to flexnode's here) keeps the Arc identity (FAKE HIMDS), whose role holds only
// system:node-proxier's dataActions: the kubelet's certificate never gains them. Status works from the certificate and
// the journal alone; an upgrade's cordon and drain go as the node, its slot (a Lease) as the operator; unbootstrap
// deletes the Node, the token, the bindings and the kubelet's credentials.
import { type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { ContainerRuntime, type AzureContext, type NodeIdentity, type StepDefinition, type StepInstance } from '@flexnode/sdk';
import { execStartOf, testConfig, typicalServices } from '@flexnode/sdk/testing';
import { nodeComponents } from '@flexnode/plugin-arc';
import { cniBridgeConfig, cniService } from '@flexnode/plugin-cni';
import {
  BOOTSTRAP_GROUP,
  NODES_ANNOTATION,
  createBinariesStep,
  createCredentialsStep,
  createKubeletStep,
  createNodeBootstrapStep,
  createNodeStep,
  createPodCidrStep,
  createProxyStep,
  kubePaths,
  nodeMaintenance,
  podCidrs,
  proxyPlan,
  readClusterFromArm,
} from '@flexnode/plugin-kube';
import { FakeArm } from '../fakes/fake-arm.js';
import { FakeHimds } from '../fakes/fake-himds.js';
import { FakeKubeApi } from '../fakes/fake-kube-api.js';
import { kubeClient } from '../fakes/kube/client.test.helpers.js';
import type { MirrorServer } from '../mirror/mirror-server.js';
import { AKS_APP, grantNodeRoles, himdsIdentity, kubeletMirror, operator, runKubeProxy, startStandin, stopAndUninstall, tree, until } from './kubelet-rig.js';
import { realHost, skipUnlessRealHost, type RealHostHandle } from './real-host.js';

const SUB = '00000000-0000-0000-0000-000000000002';
const RG = 'flex-rg';
const CLUSTER = 'flex-aks';
const VERSION = '1.33.13';
const NODE = 'edge-7';
const CLUSTER_ID = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/${CLUSTER}`;

/** The Arc identity, counting what flexnode's own code asks of it: nothing, in this mode (kube-proxy uses its exec plugin). */
function counted(identity: NodeIdentity): NodeIdentity & { asked: string[] } {
  const asked: string[] = [];
  return { ...identity, asked, getToken: (scope) => (asked.push(scope), identity.getToken(scope)) };
}

describe('kubernetes.auth bootstrap-token end to end (real Host, fake ARM + fake Kubernetes API, kubelet STAND-IN)', function () {
  this.timeout(120_000);
  let tmp = '';
  let arm: FakeArm;
  let kube: FakeKubeApi;
  let mirror: MirrorServer;
  let pins: Record<string, string>;
  let op: Awaited<ReturnType<typeof operator>>;
  let himds: FakeHimds;
  let arc: NodeIdentity & { asked: string[] };
  let kubelet: ChildProcess | undefined;

  before(async function () {
    await skipUnlessRealHost(this);
    tmp = mkdtempSync(join(tmpdir(), 'flexnode-bootstrap-e2e-'));
    // An Azure CNI Overlay cluster (the fake ARM's default profile): a /24 per Node, and flexnode's own kube-proxy.
    kube = await FakeKubeApi.start({ version: `v${VERSION}`, podCidr: { clusterCidr: '10.244.0.0/16' } });
    arm = await FakeArm.start();
    arm.addCluster({
      subscriptionId: SUB,
      resourceGroup: RG,
      name: CLUSTER,
      kube,
      kubernetesVersion: VERSION,
      networkProfile: { serviceCidr: '10.96.0.0/16', dnsServiceIP: '10.96.0.10' },
    });
    ({ mirror, pins } = await kubeletMirror(tmp, VERSION));
    op = await operator(arm, CLUSTER_ID);
    himds = await FakeHimds.start({ keyDir: join(tmp, 'keys') });
    arc = counted(himdsIdentity(himds, join(tmp, 'keys'), tmp));
    // What arc.node-role and arc.roles grant by default in this mode: kube-proxy's rules only.
    expect(nodeComponents(config())).to.deep.equal(['kube-proxy']);
    grantNodeRoles(arm, { id: CLUSTER_ID, name: CLUSTER, resourceGroup: RG, subscriptionId: SUB }, VERSION, himds.principalId, nodeComponents(config()));
  });

  after(async () => {
    kubelet?.kill('SIGKILL');
    await Promise.all([arm?.stop(), kube?.stop(), mirror?.close(), op?.entra.stop(), himds?.stop()].map((p) => p?.catch(() => undefined)));
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const config = () =>
    testConfig({
      azure: { ...testConfig().azure, subscriptionId: SUB, targetCluster: { resourceId: CLUSTER_ID } },
      kubernetes: { auth: 'bootstrap-token', version: VERSION, sha256: pins } as never,
      artifacts: { mirror: mirror.url },
      node: { name: NODE },
      pluginConfig: { '@flexnode/plugin-kube': { bootstrapTokenTtlMinutes: 10 } },
    });
  const steps = (handle: RealHostHandle, azure: AzureContext | undefined): [StepDefinition, StepInstance][] => {
    const defs = [
      createBinariesStep(readClusterFromArm),
      createCredentialsStep(readClusterFromArm),
      createNodeBootstrapStep({ readCluster: readClusterFromArm }),
      createPodCidrStep({ readCluster: readClusterFromArm, pollMs: 100 }),
      cniBridgeConfig,
      createKubeletStep({ readCluster: readClusterFromArm }),
      createNodeStep({ readCluster: readClusterFromArm }),
      createProxyStep(readClusterFromArm),
    ];
    const cfg = config();
    const services = {
      azure,
      identity: arc,
      runtime: typicalServices().get(ContainerRuntime),
      cni: cniService.create({ config: cfg }),
      proxy: { plan: (c: Parameters<typeof proxyPlan>[1]) => proxyPlan(cfg, c) },
      run: { command: 'bootstrap', force: false },
      podCidr: podCidrs(handle.host('service.pod-cidr'), cfg, arc, azure),
    };
    return defs.map((d) => [d, d.create({ host: handle.host(d.id), config: cfg, ...services })]);
  };

  it('the kubelet bootstraps to system:node:<name> with a token only good for its CSR; unbootstrap removes the token, bindings, Node and credentials', async () => {
    const call = kubeClient(kube);
    const root = join(tmp, 'root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(join(root, 'var/lib'), { recursive: true });
    const pristine = tree(root);
    const handle = await realHost(root, join(root, 'var/lib/flexnode'), { mirror: mirror.url });
    const paths = kubePaths(config());
    const list = steps(handle, op.azure);
    // Up to the kubelet; there is no service manager under the root, so the test starts the kubelet and the steps
    // after it (kube.node, kube.proxy) run once it has its certificate, as bootstrap's wait for Ready makes them.
    const kubeletAt = list.findIndex(([def]) => def.id === 'kube.kubelet') + 1;
    for (const [def, step] of list.slice(0, kubeletAt)) {
      await step.install();
      expect(await step.check(), def.id).to.deep.include({ status: 'ok' });
    }

    // As the operator: flexnode's bindings, one token Secret for this node, in kube-system, valid 10 minutes, and the
    // Node, registered before the kubelet (the node has no credential yet); the cluster gave it its /24.
    const byOperator = kube.audit.filter((e) => e.user === op.user.upn && e.verb === 'create').map((e) => `${e.code} ${e.resource}`);
    expect(byOperator).to.deep.equal(['201 clusterrolebindings', '201 clusterrolebindings', '201 clusterrolebindings', '201 secrets', '201 nodes']);
    expect(kube.node(NODE)!.spec?.podCIDR).to.equal('10.244.0.0/24');
    const conflist = JSON.parse(readFileSync(join(root, 'etc/cni/net.d/99-bridge.conflist'), 'utf8'));
    expect(conflist.plugins[0].ipam.ranges).to.deep.equal([[{ subnet: '10.244.0.0/24' }]]);
    for (const b of ['flexnode:kubelet-bootstrap', 'flexnode:node-autoapprove-bootstrap', 'flexnode:node-autoapprove-certificate-rotation']) {
      expect(kube.object('clusterrolebindings.rbac.authorization.k8s.io', '', b)?.metadata.annotations, b).to.deep.include({ [NODES_ANNOTATION]: NODE });
    }
    const secrets = kube.objects('secrets', 'kube-system').filter((s) => s.type === 'bootstrap.kubernetes.io/token');
    expect(secrets).to.have.length(1);
    const expiry = Date.parse(Buffer.from((secrets[0]!.data as Record<string, string>).expiration!, 'base64').toString());
    expect(expiry - Date.now()).to.be.within(9 * 60_000, 10 * 60_000);
    const bootPath = join(root, paths.bootstrapKubeconfig);
    expect(statSync(bootPath).mode & 0o777).to.equal(0o600);
    const token = parse(readFileSync(bootPath, 'utf8')).users[0].user.token as string;
    expect(existsSync(join(root, paths.kubeconfig)), 'the kubelet writes its kubeconfig itself').to.equal(false);

    // The token's group may create a CSR and nothing else: no nodes, no secrets, no pods.
    expect((await call('GET', '/api/v1/nodes', { token })).status).to.equal(403);
    expect((await call('GET', `/api/v1/namespaces/kube-system/secrets/${secrets[0]!.metadata.name}`, { token })).status).to.equal(403);
    const pod = await call(
      'POST',
      '/api/v1/namespaces/default/pods',
      { token },
      { metadata: { name: 'x' }, spec: { containers: [{ name: 'c', image: 'i' }] } },
    );
    expect(pod.status).to.equal(403);
    expect(pod.json.message).to.match(new RegExp(`User "system:bootstrap:${token.split('.')[0]}" cannot create resource "pods"`));

    // The kubelet: a CSR as the bootstrap identity, approved and signed, then everything as system:node:edge-7.
    const dropIn = readFileSync(join(root, paths.dropIn), 'utf8');
    expect(execStartOf(dropIn)).to.include.members([`--bootstrap-kubeconfig=${paths.bootstrapKubeconfig}`, `--cert-dir=${paths.certDir}`]);
    const standin = startStandin(root, dropIn);
    kubelet = standin.child;
    await until(() => kube.readyCondition(NODE)?.status === 'True' && !!kube.lease(NODE), 20_000, `Node ${NODE} Ready (stand-in log:\n${standin.log()})`);
    const csr = kube.objects('certificatesigningrequests.certificates.k8s.io')[0]!;
    expect(csr.spec).to.deep.include({ username: `system:bootstrap:${token.split('.')[0]}`, signerName: 'kubernetes.io/kube-apiserver-client-kubelet' });
    expect((csr.spec as { groups: string[] }).groups).to.include(BOOTSTRAP_GROUP);
    expect((csr.status as { conditions: { type: string }[] }).conditions.map((c) => c.type)).to.include('Approved');
    const users = [...new Set(kube.audit.filter((e) => e.userAgent.startsWith('kubelet/')).map((e) => e.user))];
    expect(users).to.deep.equal([`system:bootstrap:${token.split('.')[0]}`, `system:node:${NODE}`]);
    expect(kube.denials().filter((e) => e.userAgent.startsWith('kubelet/'))).to.deep.equal([]);
    for (const [def, step] of list.slice(kubeletAt)) {
      await step.install();
      expect(await step.check(), def.id).to.deep.include({ status: 'ok' });
    }
    // The kubelet adopted the operator's Node: its labels are flexnode's, and kube.node read them with the certificate.
    expect(kube.node(NODE)!.metadata.labels).to.include({ 'kubernetes.azure.com/managed': 'false', 'kubernetes.io/hostname': NODE });
    expect(kube.node(NODE)!.metadata.labels).to.not.have.property('kubernetes.azure.com/cluster');

    // kube-proxy, as kube-proxy.service says, with the Arc identity's exec credential and kube-proxy's role only.
    // From 1.33 it watches ServiceCIDRs too: the role's rows follow the version.
    const principal = himds.principalId;
    const unit = readFileSync(join(root, paths.kubeProxyUnit), 'utf8');
    expect(await runKubeProxy(root, unit, kube, principal, ['watch services', 'watch endpointslices', 'watch servicecidrs', 'create events'])).to.deep.equal(
      [],
    );
    // Only kube-proxy used the Arc identity; flexnode never asked it for a token; its role reads no Secret, writes no Node.
    expect([...new Set(kube.audit.filter((e) => e.user === principal).map((e) => e.userAgent.split('/')[0]))]).to.deep.equal(['kube-proxy']);
    expect(arc.asked).to.deep.equal([]);
    const arcToken = { token: (await arc.getToken(`${AKS_APP}/.default`)).token };
    const secret = await call('GET', `/api/v1/namespaces/kube-system/secrets/${secrets[0]!.metadata.name}`, arcToken);
    expect(secret.json.message, secret.text).to.match(/Access denied for action: Microsoft\.ContainerService\/managedClusters\/secrets\/read$/);
    const label = await call('PATCH', `/api/v1/nodes/${NODE}`, arcToken, { metadata: { labels: { stolen: 'yes' } } }, 'application/merge-patch+json');
    expect(label.json.message, label.text).to.match(/Access denied for action: Microsoft\.ContainerService\/managedClusters\/nodes\/write$/);
    arc.asked.length = 0;

    // Its certificate is a node's: the Node authorizer denies another node's Lease and Node, NodeRestriction a change to it.
    kube.apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'edge-8' } });
    kube.apply({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'edge-8', namespace: 'kube-node-lease' },
      spec: { holderIdentity: 'edge-8' },
    });
    const pem = readFileSync(join(root, paths.certDir, 'kubelet-client-current.pem'), 'utf8');
    const cert = { certPem: pem.slice(0, pem.indexOf('-----END CERTIFICATE-----') + 26), keyPem: pem.slice(pem.indexOf('-----BEGIN EC PRIVATE KEY')) };
    const lease = await call('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/edge-8', cert);
    expect(lease.json.message, lease.text).to.match(
      /User "system:node:edge-7" cannot get resource "leases".*: can only access node lease with the same name as the requesting node(\n|$)/,
    );
    const otherNode = await call('GET', '/api/v1/nodes/edge-8', cert);
    expect(otherNode.json.message, otherNode.text).to.include("node 'edge-7' cannot read 'edge-8', only its own Node object");
    const relabel = await call('PATCH', '/api/v1/nodes/edge-8', cert, { metadata: { labels: { stolen: 'yes' } } }, 'application/merge-patch+json');
    expect(relabel.status, relabel.text).to.equal(403);
    expect((await call('GET', `/api/v1/nodes/${NODE}`, cert)).status).to.equal(200);
    kube.deleteObject('nodes', '', 'edge-8', { force: true });

    // An upgrade's way out of service and back (node maintenance): the certificate cordons its Node and lists its
    // pods; the slot's Lease is the operator's, since NodeRestriction lets a node hold no Lease but its own. Without
    // the operator's credential it stops before the cordon.
    const from = kube.audit.length;
    const maintenance = (azure: AzureContext | undefined) =>
      nodeMaintenance(handle.host('service.node-maintenance'), config(), arc, azure, { sleep: async () => undefined, pollMs: 10 });
    await maintenance(op.azure).begin();
    expect(kube.node(NODE)!.spec?.unschedulable).to.equal(true);
    expect((kube.lease('flexnode-upgrade-0')?.spec as { holderIdentity?: string }).holderIdentity).to.equal(NODE);
    await maintenance(op.azure).end();
    expect(kube.node(NODE)!.spec?.unschedulable).to.equal(undefined);
    const maintenanceCalls = kube.audit
      .slice(from)
      .filter((e) => e.userAgent === 'flexnode')
      .map((e) => `${e.code} ${e.verb} ${e.resource} ${e.user === op.user.upn ? 'operator' : e.user}`);
    const node = `system:node:${NODE}`;
    expect(maintenanceCalls).to.deep.equal([
      '404 get leases operator',
      '201 create leases operator', // begin: the slot,
      `200 get nodes ${node}`,
      `200 patch nodes ${node}`,
      `200 list pods ${node}`, // cordon, drain (no pod here);
      `200 get nodes ${node}`,
      `200 patch nodes ${node}`, // end: uncordon,
      '200 get leases operator',
      '200 update leases operator',
      '404 get leases operator', // the slot released
    ]);
    expect(kube.denials().filter((e) => e.userAgent === 'flexnode')).to.deep.equal([]);
    const audited = kube.audit.length;
    const refused = (await maintenance(undefined)
      .begin()
      .catch((e: Error) => e)) as Error & { code?: string };
    expect(refused.code).to.equal('AZURE_OPERATOR_CREDENTIAL_REQUIRED');
    // flexnode's calls only: the kubelet stand-in keeps renewing its Lease and reporting its status meanwhile.
    expect(
      kube.audit.slice(audited).filter((e) => e.userAgent === 'flexnode'),
      'not a call made',
    ).to.deep.equal([]);

    // Status after the join, without the operator: from the certificate and the journal; nothing asked of Azure.
    const armCalls = arm.requests.length;
    const issued = op.entra.issued.length;
    for (const [def, step] of steps(handle, undefined)) expect(await step.check(), def.id).to.deep.include({ status: 'ok' });
    expect(arm.requests.slice(armCalls).map((r) => `${r.method} ${r.path}`)).to.deep.equal([]);
    expect(op.entra.issued.length).to.equal(issued);
    expect(arc.asked).to.deep.equal([]);

    const running = kubelet;
    kubelet = undefined;
    await stopAndUninstall(running, list, handle);
    expect(kube.node(NODE)).to.equal(undefined);
    // The kubelet step deletes the Node as the operator (a node may not); kube.pod-cidr, which registered it, finds it gone.
    expect(kube.audit.filter((e) => e.verb === 'delete').map((e) => `${e.code} ${e.resource} ${e.user}`)).to.deep.equal([
      `200 nodes ${op.user.upn}`,
      `404 nodes ${op.user.upn}`,
      `200 secrets ${op.user.upn}`,
      `200 clusterrolebindings ${op.user.upn}`,
      `200 clusterrolebindings ${op.user.upn}`,
      `200 clusterrolebindings ${op.user.upn}`,
    ]);
    expect(kube.objects('secrets', 'kube-system').filter((s) => s.type === 'bootstrap.kubernetes.io/token')).to.deep.equal([]);
    // The kubelet's credentials are gone, and with them everything it wrote in its directory (its serving pair).
    expect(existsSync(join(root, paths.kubeconfig))).to.equal(false);
    expect(existsSync(join(root, paths.certDir))).to.equal(false);
    expect(tree(root)).to.deep.equal(pristine);
    // The token's secret half was in the 0600 bootstrap kubeconfig only: never in a log line or the journal.
    const journalText = readFileSync(join(root, 'var/lib/flexnode/journal.json'), 'utf8');
    expect(journalText.includes(token.split('.')[1]!) || handle.lines.some((l) => l.message.includes(token.split('.')[1]!))).to.equal(false);
    const journal = JSON.parse(journalText);
    for (const [def] of list)
      expect(
        (journal.steps[def.id]?.changes ?? []).filter((c: { kind: string }) => c.kind !== 'exec'),
        def.id,
      ).to.deep.equal([]);
  });
});
