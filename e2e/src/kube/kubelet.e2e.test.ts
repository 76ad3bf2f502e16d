// The kubelet side END TO END, with stand-ins where nothing real can run here: kube.binaries, kube.cluster-credentials,
// kube.pod-cidr, plugin-cni's bridge, kube.kubelet, kube.node and kube.proxy on the REAL Host of packages/core over a
// temp root, against the FAKE ARM (real arm-containerservice client over HTTPS; an Azure CNI Overlay cluster), the
// FAKE Kubernetes API (its node-ipam controller allocates each Node a /24) and the FAKE HIMDS; the kubelet and
// kube-proxy binaries are the STAND-INs served by the test mirror. There is no service manager under a temp root, so
// the test starts the stand-ins itself with the exact ExecStart of the units the steps wrote, and watches the Node get
// Ready and kube-proxy watch Services in the fake API. The node identity holds flexnode's custom node roles only
// (plugin-arc's derivation from system:node and, since the service proxy mode is `auto`, system:node-proxier), as
// arc-msi mode grants them: every call of kube.pod-cidr, the kubelet and kube-proxy is authorized by them. Unbootstrap
// stops them, deletes the Node (as the operator: the node role may not), and leaves the root as it was.
import { execFile, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { parse } from 'yaml';
import {
  AzureError,
  ContainerRuntime,
  isFlexnodeError,
  type AzureContext,
  type Host,
  type NodeIdentity,
  type StepDefinition,
  type StepInstance,
} from '@flexnode/sdk';
import { execStartOf, testConfig, typicalServices } from '@flexnode/sdk/testing';
import {
  createBinariesStep,
  createCredentialsStep,
  createKubeletStep,
  createNodeStep,
  createPodCidrStep,
  createProxyStep,
  EXCLUDE_LB_LABEL,
  httpsNodesApi,
  KUBE_PROXY,
  podCidrs,
  proxyPlan,
  KUBE_BINARIES,
  kubePaths,
  readyCondition,
  readClusterFromArm,
  validateKubeletConfiguration,
} from '@flexnode/plugin-kube';
import { cniBridgeConfig, cniService } from '@flexnode/plugin-cni';
import { nodeComponents } from '@flexnode/plugin-arc';
import { FakeArm } from '../fakes/fake-arm.js';
import { FakeHimds } from '../fakes/fake-himds.js';
import { FakeKubeApi } from '../fakes/fake-kube-api.js';
import { debianArch } from '../mirror/build-artifacts.js';
import type { MirrorServer } from '../mirror/mirror-server.js';
import { AKS_APP, grantNodeRoles, himdsIdentity, kubeletMirror, operator, runKubeProxy, startStandin, stopAndUninstall, tree, until } from './kubelet-rig.js';
import { realHost, skipUnlessRealHost, type RealHostHandle } from './real-host.js';

const execFileP = promisify(execFile);
const SUB = '00000000-0000-0000-0000-000000000001';
const RG = 'flex-rg';
const CLUSTER = 'flex-aks';
const VERSION = '1.31.2';
const NODE = 'edge-1';

describe('plugin-kube kubelet end to end (fake ARM + fake Kubernetes API + fake HIMDS + kubelet STAND-IN)', function () {
  this.timeout(120_000);
  let tmp = '';
  let root = '';
  let arm: FakeArm;
  let kube: FakeKubeApi;
  let himds: FakeHimds;
  let mirror: MirrorServer;
  let identity: NodeIdentity;
  let azure: AzureContext;
  let pins: Record<string, string>;
  let kubelet: ChildProcess | undefined;
  let clusterId = '';
  let op: Awaited<ReturnType<typeof operator>>;

  before(async function () {
    await skipUnlessRealHost(this);
    tmp = mkdtempSync(join(tmpdir(), 'flexnode-kube-e2e-'));
    himds = await FakeHimds.start({ keyDir: join(tmp, 'keys') });
    // An Azure CNI Overlay cluster: kube-controller-manager gives every Node a /24 of the pod range.
    kube = await FakeKubeApi.start({ version: `v${VERSION}`, podCidr: { clusterCidr: '10.244.0.0/16' } });
    arm = await FakeArm.start();
    const cluster = arm.addCluster({
      subscriptionId: SUB,
      resourceGroup: RG,
      name: CLUSTER,
      kube,
      kubernetesVersion: VERSION,
      networkProfile: { serviceCidr: '10.96.0.0/16', dnsServiceIP: '10.96.0.10' },
    });
    clusterId = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/${cluster.name}`;
    ({ mirror, pins } = await kubeletMirror(tmp, VERSION));
    // What arc.node-role and arc.roles grant the node identity by default: flexnode's roles derived from system:node
    // (and system:node-proxier: the mode is auto) for this version; guard authorizes every call against them.
    grantNodeRoles(arm, { id: clusterId, name: CLUSTER, resourceGroup: RG, subscriptionId: SUB }, VERSION, himds.principalId, nodeComponents(config()));
    identity = himdsIdentity(himds, join(tmp, 'keys'), tmp);
    op = await operator(arm, clusterId);
    azure = op.azure;
  });

  after(async () => {
    kubelet?.kill('SIGTERM');
    await Promise.all([arm?.stop(), kube?.stop(), himds?.stop(), mirror?.close(), op?.entra.stop()].map((p) => p?.catch(() => undefined)));
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const config = () =>
    testConfig({
      azure: {
        ...testConfig().azure,
        targetCluster: { resourceId: `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/${CLUSTER}` },
      },
      kubernetes: { version: VERSION, sha256: pins } as never,
      artifacts: { mirror: mirror.url },
      node: { name: NODE, labels: { 'flexnode.io/pool': 'edge' }, taints: ['flexnode.io/edge=true:NoSchedule'] },
    });

  /** The steps, created with the real Host, in install order, with the services core would inject. */
  const steps = (handle: RealHostHandle, operatorAzure: AzureContext | undefined = azure): [StepDefinition, StepInstance][] => {
    const defs = [
      createBinariesStep(readClusterFromArm),
      createCredentialsStep(readClusterFromArm),
      createPodCidrStep({ readCluster: readClusterFromArm, pollMs: 100 }),
      cniBridgeConfig,
      createKubeletStep({ readCluster: readClusterFromArm }),
      createNodeStep({ readCluster: readClusterFromArm }),
      createProxyStep(readClusterFromArm),
    ];
    const cfg = config();
    const services = {
      azure: operatorAzure,
      identity,
      runtime: typicalServices().get(ContainerRuntime),
      cni: cniService.create({ config: cfg }),
      proxy: { plan: (c: Parameters<typeof proxyPlan>[1]) => proxyPlan(cfg, c) },
      podCidr: podCidrs(handle.host('service.pod-cidr'), cfg, identity, operatorAzure),
      run: { command: 'bootstrap', force: false },
    };
    return defs.map((d) => [d, d.create({ host: handle.host(d.id), config: cfg, ...services })]);
  };

  it('bootstrap writes kubeconfig (0600, exec plugin), CA, KubeletConfiguration and units; the stand-in registers the Node with a HIMDS token and it gets Ready; unbootstrap deletes it and restores the root', async () => {
    root = join(tmp, 'root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(join(root, 'var/lib'), { recursive: true }); // a machine has /var/lib; flexnode's journal goes in /var/lib/flexnode
    writeFileSync(join(root, 'etc/hostname'), 'other-name\n');
    cpSync('/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true }); // for systemd-analyze verify --root
    const pristine = tree(root);
    const handle = await realHost(root, join(root, 'var/lib/flexnode'), { mirror: mirror.url });
    const paths = kubePaths(config());
    const list = steps(handle);
    for (const [def, step] of list) {
      expect((await step.check()).status, def.id).to.not.equal('ok');
      await step.install();
      expect(await step.check(), def.id).to.deep.include({ status: 'ok' });
    }
    // Binaries from the mirror, verified against kubernetes.sha256, 0755.
    for (const b of KUBE_BINARIES) expect(statSync(join(root, 'usr/local/bin', b)).mode & 0o777, b).to.equal(0o755);
    const proxyFile = `kubernetes/v${VERSION}/${KUBE_PROXY}-linux-${debianArch()}`;
    expect(
      mirror
        .requests()
        .map((r) => r.path)
        .sort(),
    ).to.deep.equal([...KUBE_BINARIES.map((b) => `kubernetes/v${VERSION}/${b}-linux-${debianArch()}`), proxyFile, `${proxyFile}.sha256`].sort());
    expect(statSync(join(root, 'usr/local/bin', KUBE_PROXY)).mode & 0o777).to.equal(0o755);
    // The Node was registered before the kubelet, with the kubelet's labels and taints, and the cluster gave it a /24;
    // the bridge takes exactly that range.
    expect(kube.node(NODE)!.spec?.podCIDR).to.equal('10.244.0.0/24');
    const conflist = JSON.parse(readFileSync(join(root, 'etc/cni/net.d/99-bridge.conflist'), 'utf8'));
    expect(conflist.plugins[0].ipam.ranges).to.deep.equal([[{ subnet: '10.244.0.0/24' }]]);
    // The kubeconfig: 0600, server and CA of the cluster, the exec plugin of the node identity, nothing of AKS's user.
    const kcPath = join(root, paths.kubeconfig);
    expect(statSync(kcPath).mode & 0o777).to.equal(0o600);
    const kc = parse(readFileSync(kcPath, 'utf8'));
    expect(kc.clusters[0].cluster.server).to.equal(kube.url);
    expect(Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).to.equal(kube.caPem);
    expect(kc.users[0].user.exec).to.deep.include({ command: process.execPath, apiVersion: 'client.authentication.k8s.io/v1beta1' });
    expect(readFileSync(kcPath, 'utf8')).to.not.match(/kubelogin|devicecode/);
    expect(readFileSync(join(root, paths.caCert), 'utf8')).to.equal(kube.caPem.endsWith('\n') ? kube.caPem : `${kube.caPem}\n`);
    expect(arm.requestsTo(/listclusteradmincredential/i)).to.deep.equal([]);
    // The KubeletConfiguration: v1beta1-valid, cluster DNS from the cluster's network profile.
    const kubeletConfig = parse(readFileSync(join(root, paths.kubeletConfig), 'utf8'));
    expect(validateKubeletConfiguration(kubeletConfig)).to.deep.equal([]);
    expect(kubeletConfig.clusterDNS).to.deep.equal(['10.96.0.10']);
    // Units: enabled in the root, and valid for systemd (no warning at all, executables present).
    expect(lstatSync(join(root, 'etc/systemd/system/multi-user.target.wants/kubelet.service')).isSymbolicLink()).to.equal(true);
    const verify = await execFileP('systemd-analyze', ['verify', `--root=${root}`, 'kubelet.service', 'kube-proxy.service']).then(
      (r) => ({ code: 0, out: r.stderr + r.stdout }),
      (e) => ({ code: e.code, out: `${e.stderr}${e.stdout}` }),
    );
    expect(verify).to.deep.equal({ code: 0, out: '' });

    // Start the stand-in exactly as the drop-in says, with the machine's paths under the root.
    const dropIn = readFileSync(join(root, paths.dropIn), 'utf8');
    expect(execStartOf(dropIn)[0]).to.equal('/usr/local/bin/kubelet');
    const standin = startStandin(root, dropIn);
    kubelet = standin.child;
    await until(() => kube.readyCondition(NODE)?.status === 'True', 20_000, `Node ${NODE} Ready (kubelet stand-in log:\n${standin.log()})`);
    let stderr = standin.log();
    const node = kube.node(NODE)!;
    // Azure CNI Overlay: flexnode runs kube-proxy, so the Node carries no kubernetes.azure.com/cluster label (it would
    // bring Azure CNI's DaemonSets); the kubelet restored its own default labels on the Node it adopted.
    expect(node.metadata.labels).to.include({
      'kubernetes.azure.com/managed': 'false',
      'flexnode.io/pool': 'edge',
      [EXCLUDE_LB_LABEL]: 'true',
      'kubernetes.io/hostname': NODE,
    });
    expect(node.metadata.labels).to.not.have.property('kubernetes.azure.com/cluster');
    expect(node.spec?.taints).to.deep.equal([{ key: 'flexnode.io/edge', value: 'true', effect: 'NoSchedule' }]);
    expect(stderr).to.not.match(/unknown flag|deprecated/);
    await until(() => !!kube.lease(NODE), 10_000, `the node Lease (kubelet stand-in log:\n${standin.log()})`);
    stderr = standin.log();
    expect(kubelet.exitCode, stderr).to.equal(null);
    // The Node was registered (kube.pod-cidr) and is run (the kubelet: its own registration finds it, 409, and adopts
    // it) by the node identity under flexnode's role.
    expect(
      kube.audit.filter((e) => e.verb === 'create' && e.resource === 'nodes').map((e) => `${e.code} ${e.user} ${e.userAgent.split('/')[0]}`),
    ).to.deep.equal([`201 ${himds.principalId} flexnode`, `409 ${himds.principalId} kubelet`]);
    expect(kube.denials(), 'no call of the node identity refused by the node role').to.deep.equal([]);
    // Every API call of the stand-in carried a token the fake HIMDS issued for the AKS server app.
    const bearers = kube.requestsTo('/api/v1/nodes').map((r) => r.bearer);
    expect(bearers.length).to.be.greaterThan(0);
    expect(bearers.every((t) => !!t && himds.lookup(t)?.resource === AKS_APP)).to.equal(true);
    // The step's own read-only Node lookup: HTTPS trusting only the cluster CA, the node identity's token.
    const api = httpsNodesApi({
      server: kube.url,
      caPem: kube.caPem,
      credential: async () => ({ token: (await identity.getToken(`${AKS_APP}/.default`)).token }),
    });
    const got = await api.get(NODE);
    expect(got.status).to.equal(200);
    expect(readyCondition(got.body)?.status).to.equal('True');

    // kube-proxy as kube-proxy.service says, with its own 0600 kubeconfig: it watches Services and EndpointSlices as the
    // node identity, through guard, under the kube-proxy rules of flexnode's role (a 401/403 would have ended it).
    expect(statSync(join(root, paths.kubeProxyKubeconfig)).mode & 0o777).to.equal(0o600);
    const proxyArgv = execStartOf(readFileSync(join(root, paths.kubeProxyUnit), 'utf8'));
    expect(proxyArgv).to.deep.equal(['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.yaml', '--v=2']);
    const proxyConfig = parse(readFileSync(join(root, paths.kubeProxyConfig), 'utf8'));
    expect(proxyConfig).to.deep.include({ mode: 'iptables', clusterCIDR: '10.244.0.0/16', hostnameOverride: NODE });
    const unit = readFileSync(join(root, paths.kubeProxyUnit), 'utf8');
    expect(await runKubeProxy(root, unit, kube, himds.principalId, ['watch services', 'watch endpointslices', 'create events'])).to.deep.equal([]);

    // The operator credential gone (status, the agent's cycle after the join): the checks work from the journal and
    // the node identity, without a single ARM request.
    const armCalls = arm.requestsTo(/managedClusters/i).length;
    const withoutOperator = steps(handle, undefined);
    for (const [def, step] of withoutOperator) expect(await step.check(), def.id).to.deep.include({ status: 'ok' });
    expect(arm.requestsTo(/managedClusters/i).length).to.equal(armCalls);

    const running = kubelet;
    kubelet = undefined;
    await stopAndUninstall(running, list, handle);
    expect(kube.node(NODE)).to.equal(undefined);
    // The kubelet step deletes the Node it ran as. The node role may not (system:node may not): 403 for the node
    // identity, then 200 for the operator; kube.pod-cidr, which registered it, sees it gone and asks nobody.
    expect(kube.audit.filter((e) => e.verb === 'delete' && e.resource === 'nodes').map((e) => `${e.code} ${e.user}`)).to.deep.equal([
      `403 ${himds.principalId}`,
      `200 ${op.user.upn}`,
    ]);
    expect(tree(root)).to.deep.equal(pristine);
    const journal = JSON.parse(readFileSync(join(root, 'var/lib/flexnode/journal.json'), 'utf8'));
    for (const [def] of list)
      expect(
        (journal.steps[def.id]?.changes ?? []).filter((c: { kind: string }) => c.kind !== 'exec'),
        def.id,
      ).to.deep.equal([]);
  });

  it('a Node delete nobody may make is a warning with the fix; the rest of unbootstrap still happens', async () => {
    op.revoke(); // the operator without a Kubernetes role: guard answers 403 for the delete too
    try {
      root = join(tmp, 'root2');
      mkdirSync(root, { recursive: true });
      const handle = await realHost(root, join(root, 'var/lib/flexnode'), { mirror: mirror.url });
      const list = steps(handle);
      for (const [, step] of list) await step.install(); // kube.pod-cidr registers the Node as the node identity
      expect(kube.node(NODE)).to.not.equal(undefined);
      for (const [, step] of [...list].reverse()) await step.uninstall();
      // Both steps that may delete it (the kubelet's, which ran as it; kube.pod-cidr, which registered it) say so.
      const warnings = handle.lines.filter((l) => l.level === 'warn' && /could not delete Node edge-1/.test(l.message));
      expect(warnings, handle.lines.map((l) => `${l.level} ${l.message}`).join('\n')).to.have.length(2);
      for (const warn of warnings) {
        expect(warn.message)
          .to.include(`${op.user.upn} may not delete the Node edge-1`)
          .and.include('Access denied for action: Microsoft.ContainerService/managedClusters/nodes/delete')
          .and.include('Azure Kubernetes Service RBAC Admin')
          .and.match(/kubectl delete node edge-1/);
      }
      expect(kube.node(NODE)).to.not.equal(undefined);
      expect(existsSync(join(root, 'etc/systemd/system/kubelet.service'))).to.equal(false);
      const journal = JSON.parse(readFileSync(join(root, 'var/lib/flexnode/journal.json'), 'utf8'));
      for (const [def] of list)
        expect(
          (journal.steps[def.id]?.changes ?? []).filter((c: { kind: string }) => c.kind !== 'exec'),
          def.id,
        ).to.deep.equal([]);
      await handle.dispose();
    } finally {
      op.grant();
      kube.deleteObject('nodes', '', NODE, { force: true });
    }
  });

  it('Azure failures are clear: a missing cluster, a forbidden read, a placeholder in the config', async () => {
    const handle = await realHost(join(tmp, 'root3'), join(tmp, 'root3/var/lib/flexnode'), { dryRun: true });
    const host: Host = handle.host('kube.cluster-credentials');
    const make = (cfg: ReturnType<typeof config>) => createCredentialsStep(readClusterFromArm).create({ host, config: cfg, azure, identity });
    const missing = config();
    missing.azure.targetCluster.resourceId = missing.azure.targetCluster.resourceId.replace(CLUSTER, 'nope');
    const e1 = await make(missing)
      .check()
      .catch((e: AzureError) => e);
    expect(e1).to.be.instanceOf(AzureError);
    expect((e1 as AzureError).message).to.match(/the cluster nope was not found in resource group flex-rg/);
    arm.inject({ pathMatch: /managedClusters\/flex-aks$/i, status: 403, code: 'AuthorizationFailed' });
    const e2 = await make(config())
      .check()
      .catch((e: AzureError) => e);
    expect((e2 as AzureError).message).to.match(/may not read the cluster flex-aks \(HTTP 403 AuthorizationFailed\)/);
    expect((e2 as AzureError).hint).to.match(/Cluster User Role/);
    const placeholder = config();
    placeholder.azure.targetCluster.resourceId = '/subscriptions/your-subscription-id/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c';
    const e3 = await make(placeholder)
      .check()
      .catch((e: Error) => e);
    expect(isFlexnodeError(e3) && e3.code).to.equal('CONFIG_INVALID');
    expect((e3 as Error).message).to.match(/still a placeholder/);
    await handle.dispose();
  });
});
