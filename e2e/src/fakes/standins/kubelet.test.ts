// The kubelet STAND-IN as a child process: flags, config validation, its YAML reader; then its real kubelet calls
// against the fake Kubernetes API under AKS's rules: as the Arc identity through guard (exec plugin tokens from
// the fake HIMDS, roles from the fake ARM), with a too-small role (fatal 403), through TLS bootstrapping to a
// system:node certificate (Node authorizer), and its :10250 server's TokenReview/SubjectAccessReview.
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { kubeconfigYaml, type ClusterState } from '../arm-shapes.js';
import { FakeArm, ROLE_IDS } from '../fake-arm.js';
import { FakeHimds } from '../fake-himds.js';
import { FakeKubeApi } from '../fake-kube-api.js';
import { kubeClient } from '../kube/client.test.helpers.js';
import { installStandin, standinPath } from './install.js';
import { parseYaml } from './kubelet.js';

const SUB = '00000000-0000-0000-0000-00000000000b';
const CLUSTER = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks`;
const MC = 'Microsoft.ContainerService/managedClusters';

const KUBELET_CONFIG = `# written by a test
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
clusterDNS: ["10.0.0.10"]
clusterDomain: 'cluster.local'
maxPods: 50
port: 0
registerWithTaints:
- key: flexnode.test/new
  value: "yes"
  effect: NoSchedule
authentication:
  anonymous: {enabled: false}
  webhook:
    enabled: true
evictionHard: {memory.available: "100Mi", nodefs.available: 10%}
`;

// Exec credential plugin: the Arc challenge against the fake HIMDS, key read from the host-side key dir.
const PLUGIN = `
import { readFileSync, appendFileSync } from 'node:fs';
import { basename, join } from 'node:path';
const url = process.env.IDENTITY_ENDPOINT + '?api-version=2020-06-01&resource=6dae42f8-4368-4678-94ff-3960e28e3630';
const first = await fetch(url, { headers: { Metadata: 'true' } });
const realm = first.headers.get('www-authenticate').split('Basic realm=')[1];
const key = readFileSync(join(process.env.KEY_DIR, basename(realm)), 'utf8');
const tok = await (await fetch(url, { headers: { Metadata: 'true', Authorization: 'Basic ' + key } })).json();
appendFileSync(process.env.RUNS_FILE, 'x');
const info = JSON.parse(process.env.KUBERNETES_EXEC_INFO);
console.log(JSON.stringify({ apiVersion: info.apiVersion, kind: 'ExecCredential',
  status: { token: tok.access_token, expirationTimestamp: new Date(Number(tok.expires_on) * 1000).toISOString() } }));
`;

function run(args: string[], env: NodeJS.ProcessEnv = {}, bin = standinPath('kubelet')): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function until(cond: () => boolean, ms = 10000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

describe('kubelet stand-in', function () {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'kubelet-standin-'));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('--version prints the baked version; unknown flags fail like the real kubelet', async () => {
    const bin = installStandin('kubelet', join(tmp, 'bin/kubelet'), { kubeletVersion: '1.35.6' });
    const direct = await new Promise<string>((resolve, reject) => execFile(bin, ['--version'], (e, out) => (e ? reject(e) : resolve(out)))); // shebang + chmod, one bundled file
    expect(direct.trim()).to.equal('Kubernetes v1.35.6');
    expect(readFileSync(bin, 'utf8')).to.not.match(/from '\.\/kubelet\//);
    expect((await run(['--version'], { KUBELET_STANDIN_VERSION: '1.29.1' })).stdout.trim()).to.equal('Kubernetes v1.29.1');
    const bad = await run(['--bogus=1']);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.include('unknown flag: --bogus');
    expect((await run(['--container-runtime=remote'])).stderr).to.include('unknown flag: --container-runtime');
    // --pod-infra-container-image by version: accepted before 1.27, deprecated from 1.27, gone in 1.35.
    const pause = ['--pod-infra-container-image=mcr.microsoft.com/oss/v2/kubernetes/pause:3.10.2', '--version'];
    expect((await run(pause, { KUBELET_STANDIN_VERSION: '1.26.15' })).stderr).to.equal('');
    expect((await run(pause, { KUBELET_STANDIN_VERSION: '1.34.9' })).stderr).to.include(
      'Flag --pod-infra-container-image has been deprecated, will be removed in 1.35',
    );
    const removed = await run(pause, { KUBELET_STANDIN_VERSION: '1.35.2' });
    expect(removed.code).to.equal(1);
    expect(removed.stderr).to.include('unknown flag: --pod-infra-container-image');
  });

  it('validates the config file kind and --node-labels', async () => {
    const cfg = join(tmp, 'config.yaml');
    writeFileSync(cfg, 'apiVersion: kubelet.config.k8s.io/v1\nkind: KubeletConfiguration\n');
    const r = await run(['--config', cfg]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include('no kind "KubeletConfiguration" is registered for version "kubelet.config.k8s.io/v1"');
    const l = await run(['--node-labels=node-role.kubernetes.io/agent=,kubernetes.azure.com/managed=false']);
    expect(l.code).to.equal(1);
    expect(l.stderr).to.include("unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: [node-role.kubernetes.io/agent]");
  });

  it('reads YAML like the yaml package does', () => {
    const cluster = {
      name: 'c',
      resourceGroup: 'rg',
      tenantId: 't',
      caData: 'Q0E=',
      serverUrl: 'https://127.0.0.1:1',
      aadProfile: { managed: true },
    } as unknown as ClusterState;
    const docs = [
      KUBELET_CONFIG,
      kubeconfigYaml(cluster, 'user', 'exec', 'x'),
      kubeconfigYaml(cluster, 'user', 'azure', 'x'),
      stringify({ a: [{ b: 1, c: ['x', 'y: z'] }, "it's"], d: { e: null, f: true, g: '010', h: 'multi\nline\n', i: '#no comment' }, j: [] }),
      'k: |-\n  one\n   two\nl: >\n  folded\n  text\n\nm: "q\\tq" # c\n',
    ];
    for (const d of docs) expect(parseYaml(d), d).to.deep.equal(parse(d));
  });

  describe('as the Arc identity on an Azure RBAC cluster (exec plugin, fake HIMDS, guard)', function () {
    let himds: FakeHimds;
    let arm: FakeArm;
    let kube: FakeKubeApi;
    let cri: net.Server;
    let child: ChildProcess | undefined;
    let stderr = '';

    beforeEach(async () => {
      himds = await FakeHimds.start({ keyDir: join(tmp, 'keys'), tokenLifetimeSec: 2 });
      kube = await FakeKubeApi.start({ version: 'v1.35.6' });
      arm = await FakeArm.start();
      arm.addCluster({ subscriptionId: SUB, resourceGroup: 'rg', name: 'aks', kube });
      cri = net.createServer().listen(join(tmp, 'containerd.sock'));
      mkdirSync(join(tmp, 'net.d'));
      writeFileSync(join(tmp, 'net.d/10-bridge.conflist'), '{}');
      writeFileSync(join(tmp, 'plugin.mjs'), PLUGIN);
      writeFileSync(join(tmp, 'config.yaml'), KUBELET_CONFIG);
      writeFileSync(
        join(tmp, 'kubeconfig'),
        kube.kubeconfig({
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1',
            command: process.execPath,
            args: [join(tmp, 'plugin.mjs')],
            env: [
              ...Object.entries(himds.env()).map(([name, value]) => ({ name, value })),
              { name: 'KEY_DIR', value: join(tmp, 'keys') },
              { name: 'RUNS_FILE', value: join(tmp, 'runs') },
            ],
            interactiveMode: 'Never',
            provideClusterInfo: false,
          },
        }),
      );
      stderr = '';
    });
    afterEach(async () => {
      child?.kill('SIGKILL');
      child = undefined;
      cri.close();
      await kube.stop();
      await arm.stop();
      await himds.stop();
    });

    const start = (extra: string[] = [], env: NodeJS.ProcessEnv = {}) => {
      child = spawn(
        process.execPath,
        [
          standinPath('kubelet'),
          '--config',
          join(tmp, 'config.yaml'),
          '--kubeconfig',
          join(tmp, 'kubeconfig'),
          '--container-runtime-endpoint',
          `unix://${join(tmp, 'containerd.sock')}`,
          '--root-dir',
          join(tmp, 'root'),
          '--hostname-override',
          'Flex-Node-1',
          ...extra,
        ],
        {
          env: {
            ...process.env,
            KUBELET_STANDIN_HEARTBEAT_MS: '300',
            KUBELET_STANDIN_VERSION: 'v1.35.6',
            KUBELET_STANDIN_CNI_CONF_DIR: join(tmp, 'net.d'),
            ...env,
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      child.stderr!.on('data', (d) => {
        stderr += d;
      });
      return child;
    };

    it('with RBAC Admin it registers its Node, reports Ready, renews its Lease, makes its CSINode, events and watches, refreshes tokens, exits 0 on SIGTERM', async () => {
      arm.grant(himds.principalId, ROLE_IDS.aksRbacAdmin, CLUSTER);
      start([
        '--node-ip',
        '10.1.2.3',
        '--node-labels',
        'kubernetes.azure.com/managed=false,node.kubernetes.io/exclude-from-external-load-balancers=true',
        '--register-with-taints',
        'dedicated=flex:NoExecute',
        '--v',
        '2',
      ]);
      await until(() => kube.readyCondition('flex-node-1')?.status === 'True', 10000, `Ready (stand-in log:\n${stderr})`);
      const node = kube.node('flex-node-1')!;
      expect(node.metadata.labels).to.include({ 'kubernetes.io/hostname': 'flex-node-1', 'kubernetes.azure.com/managed': 'false' });
      expect(node.spec!.taints).to.deep.equal([
        { key: 'flexnode.test/new', value: 'yes', effect: 'NoSchedule' },
        { key: 'dedicated', value: 'flex', effect: 'NoExecute' },
      ]);
      expect((node.status!.nodeInfo as Record<string, string>).kubeletVersion).to.equal('v1.35.6');
      expect((node.status!.capacity as Record<string, string>).pods).to.equal('50');
      expect(node.status!.addresses).to.deep.include({ type: 'InternalIP', address: '10.1.2.3' });
      await until(
        () =>
          (kube.lease('flex-node-1')?.metadata.resourceVersion ?? '') !== '' &&
          kube.audit.some((e) => e.resource === 'leases' && e.verb === 'update' && e.code === 200),
        5000,
        'a Lease renewal',
      );
      expect(kube.lease('flex-node-1')!.metadata.ownerReferences![0]).to.include({ kind: 'Node', name: 'flex-node-1', uid: node.metadata.uid });
      expect(kube.object('csinodes.storage.k8s.io', '', 'flex-node-1')).to.not.equal(undefined);
      // every call as the Arc identity's object id, as guard names it
      const mine = kube.audit.filter((e) => e.user === himds.principalId);
      const seen = new Set(mine.map((e) => `${e.verb} ${e.resource}${e.subresource ? `/${e.subresource}` : ''}`));
      for (const call of [
        'create nodes',
        'patch nodes/status',
        'create leases',
        'update leases',
        'create csinodes',
        'create events',
        'list pods',
        'watch pods',
        'list services',
        'list runtimeclasses',
        'list csidrivers',
      ])
        expect(seen, call).to.include(call);
      expect(mine.find((e) => e.verb === 'watch' && e.resource === 'pods')!.query).to.include('fieldSelector=spec.nodeName%3Dflex-node-1');
      expect(kube.denials()).to.deep.equal([]);
      // Tokens live 2 s: the stand-in runs the plugin again and presents a fresh token.
      const tokensUsed = () => new Set(kube.requests.filter((r) => r.path.startsWith('/api')).map((r) => r.bearer));
      await until(() => tokensUsed().size > 1, 8000, 'a refreshed token');
      expect(readFileSync(join(tmp, 'runs'), 'utf8').length).to.be.at.least(2);
      const code = await new Promise<number | null>((resolve) => {
        child!.once('exit', resolve);
        child!.kill('SIGTERM');
      });
      expect(code, stderr).to.equal(0);
      expect(stderr).to.include('Successfully registered node "flex-node-1"');
    });

    it("a role without coordination.k8s.io/leases/write is fatal: the stand-in exits 1 naming the call and guard's denial", async () => {
      const role = arm.addRoleDefinition({
        roleName: 'kubelet without leases',
        assignableScopes: [`/subscriptions/${SUB}`],
        permissions: [{ dataActions: [`${MC}/*`], notDataActions: [`${MC}/coordination.k8s.io/leases/write`] }],
      });
      arm.grant(himds.principalId, role.id, CLUSTER);
      const code = await new Promise<number | null>((resolve) => start().once('exit', resolve));
      expect(code).to.equal(1);
      expect(stderr)
        .to.include('"POST /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases" failed: HTTP 403 Forbidden:')
        .and.include(`Access denied for action: ${MC}/coordination.k8s.io/leases/write`);
    });

    it("reports NotReady with the runtime's reason: no runtime answering, then no CNI config", async () => {
      arm.grant(himds.principalId, ROLE_IDS.aksRbacAdmin, CLUSTER);
      cri.close();
      start();
      await until(() => !!kube.readyCondition('flex-node-1'), 10000, 'a Ready condition');
      expect(kube.readyCondition('flex-node-1')).to.include({ status: 'False', reason: 'KubeletNotReady' });
      expect(kube.readyCondition('flex-node-1')!.message).to.match(/^container runtime is down/);
      cri = net.createServer().listen(join(tmp, 'containerd.sock'));
      rmSync(join(tmp, 'net.d/10-bridge.conflist'));
      await until(() => /cni plugin not initialized/.test(kube.readyCondition('flex-node-1')?.message ?? ''), 5000, 'the network reason');
      writeFileSync(join(tmp, 'net.d/10-bridge.conflist'), '{}');
      await until(() => kube.readyCondition('flex-node-1')?.status === 'True', 5000, 'Ready');
      await until(() => kube.objects('events', 'default').some((e) => e.reason === 'NodeReady'), 3000, 'the NodeReady event');
      expect(kube.objects('events', 'default').filter((e) => e.reason === 'NodeNotReady').length).to.be.at.least(1);
    });

    it('its :10250 server authenticates callers with TokenReview and authorizes them with SubjectAccessReview', async () => {
      arm.grant(himds.principalId, ROLE_IDS.aksRbacAdmin, CLUSTER);
      // A port free a moment ago can be taken before the stand-in binds it (another process's outgoing connection
      // gets it as its ephemeral port): the stand-in then says so and runs without its server, so start it again on
      // another port.
      for (let attempt = 1; ; attempt++) {
        const port = await freePort();
        writeFileSync(join(tmp, 'config.yaml'), KUBELET_CONFIG.replace('port: 0', `port: ${port}\naddress: 127.0.0.1`));
        start(['--node-ip', '127.0.0.1']);
        await until(() => /Starting to listen|Failed to listen/.test(stderr), 10000, `the stand-in's server (log:\n${stderr})`);
        if (/Starting to listen/.test(stderr)) break;
        expect(attempt, stderr).to.be.lessThan(3);
        child!.kill('SIGKILL');
        await once(child!, 'exit');
        stderr = '';
      }
      await until(() => kube.readyCondition('flex-node-1')?.status === 'True', 10000, 'Ready');
      const admin = await kube.issueClientCert('masterclient', ['system:masters']);
      const call = kubeClient(kube);
      for (const sa of ['metrics-server', 'nobody']) await call('POST', '/api/v1/namespaces/kube-system/serviceaccounts', admin, { metadata: { name: sa } });
      await call('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', admin, {
        metadata: { name: 'node-metrics' },
        rules: [{ apiGroups: [''], resources: ['nodes/metrics', 'nodes/stats'], verbs: ['get'] }],
      });
      await call('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', admin, {
        metadata: { name: 'metrics-server' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'node-metrics' },
        subjects: [{ kind: 'ServiceAccount', name: 'metrics-server', namespace: 'kube-system' }],
      });
      const ok = await kube.scrapeNode('flex-node-1', '/metrics/resource', { token: kube.serviceAccountToken('kube-system', 'metrics-server') });
      expect(ok.status, ok.body).to.equal(200);
      const denied = await kube.scrapeNode('flex-node-1', '/stats/summary', { token: kube.serviceAccountToken('kube-system', 'nobody') });
      expect(denied).to.deep.equal({
        status: 403,
        body: 'Forbidden (user=system:serviceaccount:kube-system:nobody, verb=get, resource=nodes, subresource=stats)',
      });
      expect((await kube.scrapeNode('flex-node-1', '/pods', { token: 'not-a-token' })).status).to.equal(401);
      const reviews = kube.audit.filter((e) => e.user === himds.principalId && /reviews$/.test(e.resource)).map((e) => `${e.resource} ${e.code}`);
      expect(reviews).to.include.members(['tokenreviews 201', 'subjectaccessreviews 201']);
    });
  });

  describe('TLS bootstrapping to a system:node client certificate', function () {
    let kube: FakeKubeApi;
    let child: ChildProcess | undefined;
    let stderr = '';
    let call: ReturnType<typeof kubeClient>;

    beforeEach(async () => {
      kube = await FakeKubeApi.start({ version: 'v1.35.6' });
      call = kubeClient(kube);
      writeFileSync(join(tmp, 'config.yaml'), KUBELET_CONFIG);
      stderr = '';
    });
    afterEach(async () => {
      child?.kill('SIGKILL');
      child = undefined;
      await kube.stop();
    });

    const bind = async (name: string, role: string, group: string) => {
      const admin = await kube.issueClientCert('masterclient', ['system:masters']);
      await call('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', admin, {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }],
      });
    };
    const start = (env: NodeJS.ProcessEnv = {}) => {
      child = spawn(
        process.execPath,
        [
          standinPath('kubelet'),
          '--config',
          join(tmp, 'config.yaml'),
          '--bootstrap-kubeconfig',
          join(tmp, 'bootstrap-kubeconfig'),
          '--kubeconfig',
          join(tmp, 'kubeconfig'),
          '--cert-dir',
          join(tmp, 'pki'),
          '--root-dir',
          join(tmp, 'root'),
          '--rotate-certificates',
          '--hostname-override',
          'edge-7',
        ],
        { env: { ...process.env, KUBELET_STANDIN_SKIP_CRI_CHECK: '1', KUBELET_STANDIN_HEARTBEAT_MS: '300', ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      child.stderr!.on('data', (d) => {
        stderr += d;
      });
      return child;
    };

    it('creates a CSR as the bootstrap identity, gets it approved and signed, writes the 0600 kubeconfig and continues as system:node:<name>', async () => {
      await bind('kubeadm:kubelet-bootstrap', 'system:node-bootstrapper', 'system:bootstrappers:kubeadm:default-node-token');
      await bind(
        'kubeadm:node-autoapprove-bootstrap',
        'system:certificates.k8s.io:certificatesigningrequests:nodeclient',
        'system:bootstrappers:kubeadm:default-node-token',
      );
      const { token } = kube.createBootstrapToken({ groups: ['system:bootstrappers:kubeadm:default-node-token'] });
      writeFileSync(join(tmp, 'bootstrap-kubeconfig'), kube.kubeconfig({ token }), { mode: 0o600 });
      start();
      await until(() => kube.readyCondition('edge-7')?.status === 'True' && !!kube.lease('edge-7'), 10000, `Ready as a node (log:\n${stderr})`);
      const csr = kube.objects('certificatesigningrequests.certificates.k8s.io')[0]!;
      expect(csr.spec).to.include({ username: `system:bootstrap:${token.split('.')[0]}`, signerName: 'kubernetes.io/kube-apiserver-client-kubelet' });
      expect(statSync(join(tmp, 'kubeconfig')).mode & 0o777).to.equal(0o600);
      const current = join(tmp, 'pki/kubelet-client-current.pem');
      expect(readlinkSync(current)).to.match(/kubelet-client-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.pem$/);
      expect(statSync(current).mode & 0o777).to.equal(0o600);
      expect(parseYaml(readFileSync(join(tmp, 'kubeconfig'), 'utf8'))).to.deep.nested.include({ 'users[0].user.client-certificate': current });
      const users = new Set(kube.audit.filter((e) => e.userAgent.startsWith('kubelet/')).map((e) => e.user));
      expect([...users]).to.deep.equal([`system:bootstrap:${token.split('.')[0]}`, 'system:node:edge-7']);
      expect(kube.denials()).to.deep.equal([]);
      // the certificate it got is a node's: the Node authorizer keeps it off another node's Lease
      const pem = readFileSync(current, 'utf8');
      const cert = { certPem: pem.slice(0, pem.indexOf('-----END CERTIFICATE-----') + 26), keyPem: pem.slice(pem.indexOf('-----BEGIN EC PRIVATE KEY')) };
      const other = await call('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/edge-8', cert);
      expect(other.json.message).to.match(
        /User "system:node:edge-7" cannot get resource "leases".*: can only access node lease with the same name as the requesting node$/,
      );
    });

    it('without the nodeclient binding the CSR stays pending and the stand-in gives up with the reason', async () => {
      await bind('kubeadm:kubelet-bootstrap', 'system:node-bootstrapper', 'system:bootstrappers:kubeadm:default-node-token');
      const { token } = kube.createBootstrapToken({ groups: ['system:bootstrappers:kubeadm:default-node-token'] });
      writeFileSync(join(tmp, 'bootstrap-kubeconfig'), kube.kubeconfig({ token }), { mode: 0o600 });
      const code = await new Promise<number | null>((resolve) => start({ KUBELET_STANDIN_CSR_TIMEOUT_MS: '1500' }).once('exit', resolve));
      expect(code).to.equal(1);
      expect(stderr).to.match(/timed out waiting for certificatesigningrequest "csr-[a-z0-9]{5}" to be approved and signed/);
      expect(kube.nodes()).to.deep.equal([]);
    });
  });
});
