// The kubelet side END TO END, with stand-ins where nothing real can run here: kube.binaries, kube.cluster-credentials
// and kube.kubelet on the REAL Host of packages/core over a temp root, against the FAKE ARM (real arm-containerservice
// client over HTTPS), the FAKE Kubernetes API and the FAKE HIMDS; the kubelet binary is the kubelet STAND-IN served by
// the test mirror. There is no service manager under a temp root, so the test starts the stand-in itself with the
// exact ExecStart of the drop-in the step wrote, and watches the Node get Ready in the fake API. Unbootstrap stops it,
// deletes the Node, and leaves the root as it was.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { parse } from 'yaml';
import { AzureError, Cni, ContainerRuntime, isFlexnodeError, type AzureContext, type Host, type NodeIdentity, type StepDefinition, type StepInstance } from '@flexnode/sdk';
import { execStartOf, testConfig, typicalServices } from '@flexnode/sdk/testing';
import {
  createBinariesStep,
  createCredentialsStep,
  createKubeletStep,
  httpsNodeApi,
  KUBE_BINARIES,
  kubePaths,
  readyCondition,
  readClusterFromArm,
  validateKubeletConfiguration,
} from '@flexnode/plugin-kube';
import { FakeArm } from '../fakes/fake-arm.js';
import { FakeHimds } from '../fakes/fake-himds.js';
import { FakeKubeApi } from '../fakes/fake-kube-api.js';
import { installStandin } from '../fakes/standins/install.js';
import { trustPolicy } from '../fakes/tls.js';
import { ArtifactManifest, debianArch } from '../mirror/build-artifacts.js';
import { startMirror, type MirrorServer } from '../mirror/mirror-server.js';
import { coreBuilt, realHost, type RealHostHandle } from './real-host.js';

const execFileP = promisify(execFile);
const SUB = '00000000-0000-0000-0000-000000000001';
const RG = 'flex-rg';
const CLUSTER = 'flex-aks';
const VERSION = '1.31.2';
const NODE = 'edge-1';
const AKS_APP = '6dae42f8-4368-4678-94ff-3960e28e3630';

// The exec credential plugin of the test's node identity (plugin-arc's `flexnode token` stands here): the Arc
// challenge against the fake HIMDS, the key read from the host-side key directory.
const EXEC_PLUGIN = `
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
const url = process.env.IDENTITY_ENDPOINT + '?api-version=2020-06-01&resource=${AKS_APP}';
const first = await fetch(url, { headers: { Metadata: 'true' } });
const realm = first.headers.get('www-authenticate').split('Basic realm=')[1];
const key = readFileSync(join(process.env.KEY_DIR, basename(realm)), 'utf8');
const tok = await (await fetch(url, { headers: { Metadata: 'true', Authorization: 'Basic ' + key } })).json();
const info = JSON.parse(process.env.KUBERNETES_EXEC_INFO);
console.log(JSON.stringify({ apiVersion: info.apiVersion, kind: 'ExecCredential',
  status: { token: tok.access_token, expirationTimestamp: new Date(Number(tok.expires_on) * 1000).toISOString() } }));
`;

/** A NodeIdentity like plugin-arc's, over the fake HIMDS. */
function himdsIdentity(himds: FakeHimds, keyDir: string, pluginPath: string): NodeIdentity {
  return {
    async getToken(scope) {
      const url = `${himds.env().IDENTITY_ENDPOINT}?api-version=2020-06-01&resource=${encodeURIComponent(scope.replace(/\/\.default$/, ''))}`;
      const first = await fetch(url, { headers: { Metadata: 'true' } });
      const realm = first.headers.get('www-authenticate')!.split('Basic realm=')[1]!;
      const key = readFileSync(join(keyDir, basename(realm)), 'utf8');
      const tok = (await (await fetch(url, { headers: { Metadata: 'true', Authorization: `Basic ${key}` } })).json()) as { access_token: string; expires_on: string };
      return { token: tok.access_token, expiresOnTimestamp: Number(tok.expires_on) * 1000 };
    },
    principalId: async () => himds.principalId,
    execCredential: () => ({ command: process.execPath, args: [pluginPath], env: { IDENTITY_ENDPOINT: himds.env().IDENTITY_ENDPOINT, KEY_DIR: keyDir } }),
  };
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** path → "mode sha-ish" for every file/dir under root, except flexnode's state and the verify-only system units. */
function tree(root: string, dir = ''): Record<string, string> {
  const out: Record<string, string> = {};
  const names = (() => {
    try {
      return readdirSync(join(root, dir));
    } catch {
      return [];
    }
  })();
  for (const name of names.sort()) {
    const rel = `${dir}/${name}`;
    if (rel === '/var/lib/flexnode' || rel === '/usr/lib/systemd') continue;
    const st = lstatSync(join(root, rel));
    out[rel] = `${st.isDirectory() ? 'dir' : 'file'} ${(st.mode & 0o7777).toString(8)} ${st.isDirectory() ? '' : readFileSync(join(root, rel)).toString('base64').slice(0, 40)}`;
    if (st.isDirectory()) Object.assign(out, tree(root, rel));
  }
  return out;
}

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
  let rbacAdmin: { scope: string; name: string } | undefined;

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.log('      SKIP: needs root (the real Host sets owners; systemctl --root)');
      return this.skip();
    }
    if (!(await coreBuilt())) {
      console.log('      SKIP: packages/core is not built');
      return this.skip();
    }
    tmp = mkdtempSync(join(tmpdir(), 'flexnode-kube-e2e-'));
    himds = await FakeHimds.start({ keyDir: join(tmp, 'keys') });
    kube = await FakeKubeApi.start({ version: `v${VERSION}` });
    arm = await FakeArm.start();
    const cluster = arm.addCluster({ subscriptionId: SUB, resourceGroup: RG, name: CLUSTER, kube, kubernetesVersion: VERSION,
      networkProfile: { serviceCidr: '10.96.0.0/16', dnsServiceIP: '10.96.0.10' } });
    // What arc.roles grants the node identity by default; guard authorizes the kubelet's calls against it.
    clusterId = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/${cluster.name}`;
    rbacAdmin = arm.grant(himds.principalId, 'Azure Kubernetes Service RBAC Admin', clusterId);
    // The mirror serves the kubelet stand-in (its version baked in) and small files as kubectl and kubeadm.
    const manifest = new ArtifactManifest(debianArch());
    const bins = join(tmp, 'bins');
    installStandin('kubelet', join(bins, 'kubelet'), { kubeletVersion: VERSION });
    for (const b of ['kubectl', 'kubeadm']) {
      mkdirSync(bins, { recursive: true });
      writeFileSync(join(bins, b), `#!/bin/sh\necho "${b} stand-in"\n`, { mode: 0o755 });
    }
    pins = {};
    for (const b of KUBE_BINARIES) pins[b] = (await manifest.addFile(`kubernetes/v${VERSION}/${b}-linux-${manifest.arch}`, join(bins, b))).sha256;
    mirror = await startMirror(manifest);
    writeFileSync(join(tmp, 'exec-plugin.mjs'), EXEC_PLUGIN);
    identity = himdsIdentity(himds, join(tmp, 'keys'), join(tmp, 'exec-plugin.mjs'));
    azure = {
      credential: { getToken: async () => ({ token: 'operator-token', expiresOnTimestamp: Date.now() + 3600_000 }) },
      subscriptionId: SUB,
      tenantId: arm.tenantId,
      resourceManagerEndpoint: arm.endpoint,
      armScope: 'https://management.azure.com/.default',
      clientOptions: { endpoint: arm.endpoint, additionalPolicies: [{ policy: trustPolicy(arm.cert), position: 'perCall' }], retryOptions: { maxRetries: 0 } },
    };
  });

  after(async () => {
    kubelet?.kill('SIGTERM');
    await Promise.all([arm?.stop(), kube?.stop(), himds?.stop(), mirror?.close()].map((p) => p?.catch(() => undefined)));
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const config = () =>
    testConfig({
      azure: { ...testConfig().azure, targetCluster: { resourceId: `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/${CLUSTER}` } },
      kubernetes: { version: VERSION, sha256: pins } as never,
      artifacts: { mirror: mirror.url },
      node: { name: NODE, labels: { 'flexnode.io/pool': 'edge' }, taints: ['flexnode.io/edge=true:NoSchedule'] },
    });

  /** The steps, created with the real Host, in install order. */
  const steps = (handle: RealHostHandle): [StepDefinition, StepInstance][] => {
    const defs = [createBinariesStep(readClusterFromArm), createCredentialsStep(readClusterFromArm), createKubeletStep({ readCluster: readClusterFromArm })];
    return defs.map((d) => [d, d.create({ host: handle.host(d.id), config: config(), azure, identity, runtime: typicalServices().get(ContainerRuntime), cni: typicalServices().get(Cni), run: { command: 'bootstrap', force: false } })]);
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
    expect(mirror.requests().map((r) => r.path).sort()).to.deep.equal(KUBE_BINARIES.map((b) => `kubernetes/v${VERSION}/${b}-linux-${debianArch()}`).sort());
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
    const verify = await execFileP('systemd-analyze', ['verify', `--root=${root}`, 'kubelet.service']).then((r) => ({ code: 0, out: r.stderr + r.stdout }), (e) => ({ code: e.code, out: `${e.stderr}${e.stdout}` }));
    expect(verify).to.deep.equal({ code: 0, out: '' });

    // Start the stand-in exactly as the drop-in says, with the machine's paths under the root.
    const argv = execStartOf(readFileSync(join(root, paths.dropIn), 'utf8')).map((a) => a.replace(/=(\/(?:var|etc)\/)/, `=${root}$1`));
    expect(argv[0]).to.equal('/usr/local/bin/kubelet');
    let stderr = '';
    kubelet = spawn(join(root, argv[0]!), argv.slice(1), { env: { ...process.env, KUBELET_STANDIN_SKIP_CRI_CHECK: '1', KUBELET_STANDIN_HEARTBEAT_MS: '200',
      KUBELET_STANDIN_ROOT: root }, stdio: ['ignore', 'ignore', 'pipe'] }); // the config's paths (client CA) live under the root
    kubelet.stderr!.on('data', (d) => (stderr += d));
    await until(() => kube.readyCondition(NODE)?.status === 'True', 20_000, `Node ${NODE} Ready (kubelet stand-in log:\n${stderr})`);
    const node = kube.node(NODE)!;
    expect(node.metadata.labels).to.include({ 'kubernetes.azure.com/managed': 'false', 'flexnode.io/pool': 'edge' });
    expect(node.spec?.taints).to.deep.equal([{ key: 'flexnode.io/edge', value: 'true', effect: 'NoSchedule' }]);
    expect(stderr).to.not.match(/unknown flag|deprecated/);
    await until(() => !!kube.lease(NODE), 10_000, `the node Lease (kubelet stand-in log:\n${stderr})`);
    expect(kubelet.exitCode, stderr).to.equal(null);
    // Every API call of the stand-in carried a token the fake HIMDS issued for the AKS server app.
    const bearers = kube.requestsTo('/api/v1/nodes').map((r) => r.bearer);
    expect(bearers.length).to.be.greaterThan(0);
    expect(bearers.every((t) => !!t && himds.lookup(t)?.resource === AKS_APP)).to.equal(true);
    // The step's own read-only Node lookup: HTTPS trusting only the cluster CA, the node identity's token.
    const api = httpsNodeApi({ server: kube.url, caPem: kube.caPem, token: async () => (await identity.getToken(`${AKS_APP}/.default`)).token });
    const got = await api.getNode(NODE);
    expect(got.status).to.equal(200);
    expect(readyCondition(got.body)?.status).to.equal('True');

    // The operator credential gone (status, the agent's cycle after the join): the checks work from the journal and
    // the node identity, without a single ARM request.
    const armCalls = arm.requestsTo(/managedClusters/i).length;
    const withoutOperator = [createBinariesStep(readClusterFromArm), createCredentialsStep(readClusterFromArm), createKubeletStep({ readCluster: readClusterFromArm })]
      .map((d) => [d.id, d.create({ host: handle.host(d.id), config: config(), azure: undefined, identity, runtime: typicalServices().get(ContainerRuntime), cni: typicalServices().get(Cni), run: { command: 'unbootstrap', force: false } })] as const);
    for (const [id, step] of withoutOperator) expect(await step.check(), id).to.deep.include({ status: 'ok' });
    expect(arm.requestsTo(/managedClusters/i).length).to.equal(armCalls);

    // Unbootstrap: stop the kubelet (systemd would), then uninstall in reverse order.
    kubelet.kill('SIGTERM');
    await new Promise((r) => kubelet!.once('exit', r));
    kubelet = undefined;
    for (const [, step] of [...list].reverse()) await step.uninstall();
    await handle.dispose();
    expect(kube.node(NODE)).to.equal(undefined);
    expect(kube.requestsTo(`/api/v1/nodes/${NODE}`, 'DELETE').at(-1)?.status).to.equal(200);
    expect(tree(root)).to.deep.equal(pristine);
    const journal = JSON.parse(readFileSync(join(root, 'var/lib/flexnode/journal.json'), 'utf8'));
    for (const [def] of list) expect((journal.steps[def.id]?.changes ?? []).filter((c: { kind: string }) => c.kind !== 'exec'), def.id).to.deep.equal([]);
  });

  it('a Node delete the identity may not make is a warning with the fix; the rest of unbootstrap still happens', async () => {
    // A role like RBAC Admin without nodes/delete instead of RBAC Admin: guard answers 403 for the delete.
    const noDelete = arm.addRoleDefinition({ roleName: 'Node without delete', assignableScopes: [`/subscriptions/${SUB}`],
      permissions: [{ dataActions: ['Microsoft.ContainerService/managedClusters/*'], notDataActions: ['Microsoft.ContainerService/managedClusters/nodes/delete'] }] });
    arm.removeRoleAssignment(rbacAdmin!.scope, rbacAdmin!.name);
    const limited = arm.grant(himds.principalId, noDelete.id, clusterId);
    try {
      root = join(tmp, 'root2');
      mkdirSync(root, { recursive: true });
      const handle = await realHost(root, join(root, 'var/lib/flexnode'), { mirror: mirror.url });
      const list = steps(handle);
      for (const [, step] of list) await step.install();
      // Register the Node as the kubelet would, with the node identity's token.
      const token = (await identity.getToken(`${AKS_APP}/.default`)).token;
      await createNode(token);
      for (const [, step] of [...list].reverse()) await step.uninstall();
      const warn = handle.lines.find((l) => l.level === 'warn' && /may not delete Node edge-1/.test(l.message));
      expect(warn?.message).to.match(/HTTP 403.*kubectl delete node edge-1/);
      expect(kube.node(NODE)).to.not.equal(undefined);
      expect(kube.denials().at(-1)?.message).to.match(/Access denied for action: Microsoft\.ContainerService\/managedClusters\/nodes\/delete$/);
      await handle.dispose();
    } finally {
      arm.removeRoleAssignment(limited.scope, limited.name);
      rbacAdmin = arm.grant(himds.principalId, 'Azure Kubernetes Service RBAC Admin', clusterId);
    }
    async function createNode(token: string) {
      // Node's fetch does not trust the fake CA (NODE_EXTRA_CA_CERTS is read at start-up): plain https with the CA.
      const https = await import('node:https');
      await new Promise<void>((resolve, reject) => {
        const u = new URL(`${kube.url}/api/v1/nodes`);
        const req = https.request({ method: 'POST', host: u.hostname, port: u.port, path: u.pathname, ca: kube.caPem, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        });
        req.on('error', reject);
        req.end(JSON.stringify({ metadata: { name: NODE } }));
      });
    }
  });

  it('Azure failures are clear: a missing cluster, a forbidden read, a placeholder in the config', async () => {
    const handle = await realHost(join(tmp, 'root3'), join(tmp, 'root3/var/lib/flexnode'), { dryRun: true });
    const host: Host = handle.host('kube.cluster-credentials');
    const make = (cfg: ReturnType<typeof config>) => createCredentialsStep(readClusterFromArm).create({ host, config: cfg, azure, identity });
    const missing = config();
    missing.azure.targetCluster.resourceId = missing.azure.targetCluster.resourceId.replace(CLUSTER, 'nope');
    const e1 = await make(missing).check().catch((e: AzureError) => e);
    expect(e1).to.be.instanceOf(AzureError);
    expect((e1 as AzureError).message).to.match(/the cluster nope was not found in resource group flex-rg/);
    arm.inject({ pathMatch: /managedClusters\/flex-aks$/i, status: 403, code: 'AuthorizationFailed' });
    const e2 = await make(config()).check().catch((e: AzureError) => e);
    expect((e2 as AzureError).message).to.match(/may not read the cluster flex-aks \(HTTP 403 AuthorizationFailed\)/);
    expect((e2 as AzureError).hint).to.match(/Cluster User Role/);
    const placeholder = config();
    placeholder.azure.targetCluster.resourceId = '/subscriptions/your-subscription-id/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c';
    const e3 = await make(placeholder).check().catch((e: Error) => e);
    expect(isFlexnodeError(e3) && e3.code).to.equal('CONFIG_INVALID');
    expect((e3 as Error).message).to.match(/still a placeholder/);
    await handle.dispose();
  });
});
