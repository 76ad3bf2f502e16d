// The kubelet STAND-IN as a child process: flags, config validation, its YAML reader, and a Node registered on the
// fake Kubernetes API with tokens from an exec credential plugin that asks the fake HIMDS.
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { kubeconfigYaml, type ClusterState } from '../arm-shapes.js';
import { FakeHimds } from '../fake-himds.js';
import { FakeKubeApi } from '../fake-kube-api.js';
import { installStandin, standinPath } from './install.js';
import { parseYaml } from './kubelet.js';

const KUBELET_CONFIG = `# written by a test
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
clusterDNS: ["10.0.0.10"]
clusterDomain: 'cluster.local'
maxPods: 50
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
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

async function until(cond: () => boolean, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('kubelet stand-in', function () {
  let tmp: string;
  beforeEach(() => { tmp = mkdtempSync(join(tmpdir(), 'kubelet-standin-')); });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('--version prints the baked version; unknown flags fail like the real kubelet', async () => {
    const bin = installStandin('kubelet', join(tmp, 'bin/kubelet'), { kubeletVersion: '1.30.5' });
    const direct = await new Promise<string>((resolve, reject) =>
      execFile(bin, ['--version'], (e, out) => (e ? reject(e) : resolve(out)))); // shebang + chmod, no .js extension
    expect(direct.trim()).to.equal('Kubernetes v1.30.5');
    expect((await run(['--version'], { KUBELET_STANDIN_VERSION: '1.29.1' })).stdout.trim()).to.equal('Kubernetes v1.29.1');
    const bad = await run(['--bogus=1']);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.include('unknown flag: --bogus');
    expect((await run(['--container-runtime=remote'])).stderr).to.include('unknown flag: --container-runtime');
    // --pod-infra-container-image by version: accepted before 1.27, deprecated from 1.27, gone in 1.35.
    const pause = ['--pod-infra-container-image=mcr.microsoft.com/oss/v2/kubernetes/pause:3.10.2', '--version'];
    expect((await run(pause, { KUBELET_STANDIN_VERSION: '1.26.15' })).stderr).to.equal('');
    expect((await run(pause, { KUBELET_STANDIN_VERSION: '1.34.9' })).stderr).to.include('Flag --pod-infra-container-image has been deprecated, will be removed in 1.35');
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
    const cluster = { name: 'c', resourceGroup: 'rg', tenantId: 't', caData: 'Q0E=', serverUrl: 'https://127.0.0.1:1', aadProfile: { managed: true } } as unknown as ClusterState;
    const docs = [
      KUBELET_CONFIG,
      kubeconfigYaml(cluster, 'user', 'exec', 'x'),
      kubeconfigYaml(cluster, 'user', 'azure', 'x'),
      stringify({ a: [{ b: 1, c: ['x', 'y: z'] }, 'it\'s'], d: { e: null, f: true, g: '010', h: 'multi\nline\n', i: '#no comment' }, j: [] }),
      'k: |-\n  one\n   two\nl: >\n  folded\n  text\n\nm: "q\\tq" # c\n',
    ];
    for (const d of docs) expect(parseYaml(d), d).to.deep.equal(parse(d));
  });

  describe('against the fake Kubernetes API with exec-plugin tokens from the fake HIMDS', function () {
    let himds: FakeHimds;
    let kube: FakeKubeApi;
    let cri: net.Server;
    let child: ChildProcess | undefined;

    beforeEach(async () => {
      himds = await FakeHimds.start({ keyDir: join(tmp, 'keys'), tokenLifetimeSec: 2 });
      kube = await FakeKubeApi.start({ acceptToken: (t) => (himds.isIssued(t) ? 'system:node:flex-node-1' : false) });
      cri = net.createServer().listen(join(tmp, 'containerd.sock'));
      writeFileSync(join(tmp, 'plugin.mjs'), PLUGIN);
      writeFileSync(join(tmp, 'config.yaml'), KUBELET_CONFIG);
      writeFileSync(join(tmp, 'kubeconfig'), stringify({
        apiVersion: 'v1', kind: 'Config', 'current-context': 'default',
        clusters: [{ name: 'aks', cluster: { server: kube.url, 'certificate-authority-data': kube.caData } }],
        contexts: [{ name: 'default', context: { cluster: 'aks', user: 'kubelet' } }],
        users: [{ name: 'kubelet', user: { exec: {
          apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: [join(tmp, 'plugin.mjs')],
          env: [...Object.entries(himds.env()).map(([name, value]) => ({ name, value })),
            { name: 'KEY_DIR', value: join(tmp, 'keys') }, { name: 'RUNS_FILE', value: join(tmp, 'runs') }],
          interactiveMode: 'Never', provideClusterInfo: false,
        } } }],
      }));
    });
    afterEach(async () => {
      child?.kill('SIGKILL');
      cri.close();
      await kube.stop();
      await himds.stop();
    });

    it('registers the Node, keeps Ready and the Lease fresh, refreshes expired tokens, exits 0 on SIGTERM', async () => {
      child = spawn(process.execPath, [standinPath('kubelet'), '--config', join(tmp, 'config.yaml'), '--kubeconfig', join(tmp, 'kubeconfig'),
        '--container-runtime-endpoint', `unix://${join(tmp, 'containerd.sock')}`, '--hostname-override', 'Flex-Node-1',
        '--node-ip', '10.1.2.3', '--node-labels', 'kubernetes.azure.com/managed=false,node.kubernetes.io/exclude-from-external-load-balancers=true',
        '--register-with-taints', 'dedicated=flex:NoExecute', '--v', '2'],
      { env: { ...process.env, KUBELET_STANDIN_HEARTBEAT_MS: '300', KUBELET_STANDIN_VERSION: 'v1.31.2' }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (d) => { stderr += d; });

      await until(() => kube.readyCondition('flex-node-1')?.status === 'True');
      const node = kube.node('flex-node-1')!;
      expect(node.metadata.labels).to.include({ 'kubernetes.io/hostname': 'flex-node-1', 'kubernetes.azure.com/managed': 'false' });
      expect(node.spec!.taints).to.deep.equal([{ key: 'flexnode.test/new', value: 'yes', effect: 'NoSchedule' }, { key: 'dedicated', value: 'flex', effect: 'NoExecute' }]);
      expect((node.status!.nodeInfo as Record<string, string>).kubeletVersion).to.equal('v1.31.2');
      expect((node.status!.capacity as Record<string, string>).pods).to.equal('50');
      expect(node.status!.addresses).to.deep.include({ type: 'InternalIP', address: '10.1.2.3' });
      await until(() => !!kube.lease('flex-node-1'));

      // Tokens live 2 s: the stand-in must run the plugin again and present a fresh token.
      const tokensUsed = () => new Set(kube.requests.filter((r) => r.path.startsWith('/api')).map((r) => r.bearer));
      await until(() => tokensUsed().size > 1, 8000);
      const tokens = tokensUsed();
      expect(readFileSync(join(tmp, 'runs'), 'utf8').length).to.be.at.least(2);
      expect([...tokens].every((t) => himds.issued.some((i) => i.token === t))).to.equal(true);

      const code = await new Promise<number | null>((resolve) => { child!.once('exit', resolve); child!.kill('SIGTERM'); });
      expect(code, stderr).to.equal(0);
      expect(stderr).to.include('kubelet stand-in').and.include('Successfully registered node "flex-node-1"');
    });

    it('reports NotReady without a CRI socket', async () => {
      cri.close();
      child = spawn(process.execPath, [standinPath('kubelet'), '--kubeconfig', join(tmp, 'kubeconfig'), '--hostname-override', 'n-nocri',
        '--container-runtime-endpoint', `unix://${join(tmp, 'missing.sock')}`], { env: { ...process.env, KUBELET_STANDIN_HEARTBEAT_MS: '200' }, stdio: 'ignore' });
      await until(() => !!kube.readyCondition('n-nocri'));
      expect(kube.readyCondition('n-nocri')).to.include({ status: 'False', reason: 'KubeletNotReady' });
    });
  });
});
