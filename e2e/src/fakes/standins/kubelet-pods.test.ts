// The kubelet stand-in runs the pods bound to its node for real, through a real containerd (private, on this host):
// it fetches what they need with its node identity (secret env, configmap volume, a bound service-account token),
// reports their status, stops and removes their containers when the pod is evicted (then deletes it with grace 0),
// leaves them running when it is killed, and removes containers of pods the API no longer has when it starts.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPodImage, POD_IMAGE } from '../../mirror/oci-image.js';
import { FakeKubeApi } from '../fake-kube-api.js';
import { kubeClient, until } from '../kube/client.test.helpers.js';
import { standinPath } from './install.js';
import { containerdUnavailable, startContainerd, type PrivateContainerd } from './private-containerd.test.helpers.js';

const NODE = 'edge-pods';

describe('kubelet stand-in: pods run for real through containerd', function () {
  this.timeout(120_000);
  let tmp = '';
  let containerd: PrivateContainerd | undefined;
  let kube: FakeKubeApi;
  let kubelet: ChildProcess | undefined;
  let log = '';

  before(async function () {
    const why = containerdUnavailable();
    if (why) {
      console.log(`      SKIP: ${why}`);
      return this.skip();
    }
    tmp = mkdtempSync(join(tmpdir(), 'kubelet-pods-'));
    containerd = await startContainerd(join(tmp, 'containerd'));
    await buildPodImage(join(tmp, 'pod.tar'));
    await containerd.ctr(['images', 'import', join(tmp, 'pod.tar')]);
    kube = await FakeKubeApi.start();
    const cert = await kube.issueClientCert(`system:node:${NODE}`, ['system:nodes']);
    writeFileSync(join(tmp, 'kubeconfig'), kube.kubeconfig(cert), { mode: 0o600 });
    writeFileSync(join(tmp, 'config.yaml'), 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nport: 0\n');
    mkdirSync(join(tmp, 'net.d'));
    writeFileSync(join(tmp, 'net.d/10-test.conflist'), '{"cniVersion":"1.0.0","name":"test","plugins":[]}');
  });

  after(async () => {
    kubelet?.kill('SIGKILL');
    await containerd?.stop();
    await kube?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const startKubelet = () => {
    log = '';
    kubelet = spawn(
      process.execPath,
      [
        standinPath('kubelet'),
        '--config',
        join(tmp, 'config.yaml'),
        '--kubeconfig',
        join(tmp, 'kubeconfig'),
        '--container-runtime-endpoint',
        `unix://${containerd!.socket}`,
        '--root-dir',
        join(tmp, 'kubelet'),
        '--hostname-override',
        NODE,
        '--node-ip',
        '10.20.30.40',
      ],
      {
        env: { ...process.env, KUBELET_STANDIN_CTR: '/usr/bin/ctr', KUBELET_STANDIN_HEARTBEAT_MS: '300', KUBELET_STANDIN_CNI_CONF_DIR: join(tmp, 'net.d') },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    kubelet.stderr!.on('data', (d) => {
      log += d;
    });
  };
  const stopKubelet = async (signal: NodeJS.Signals) => {
    const k = kubelet!;
    kubelet = undefined;
    await new Promise((r) => {
      k.once('exit', r);
      k.kill(signal);
    });
  };
  /** pod uid -> task status of its containers, from containerd itself. */
  const podTasks = async () => {
    const out = new Map<string, string>();
    const tasks = new Map(
      (await containerd!.ctr(['tasks', 'ls']))
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s+/))
        .map(([id, , st]) => [id!, st!]),
    );
    for (const id of (await containerd!.ctr(['containers', 'ls', '-q'])).split('\n').filter(Boolean)) {
      // The kubelet may remove it between the listing and this read (the cleanup this test waits for).
      const info = await containerd!.ctr(['containers', 'info', id]).catch((e: Error) => {
        if (/not found/.test(e.message)) return undefined;
        throw e;
      });
      if (info === undefined) continue;
      const labels = JSON.parse(info).Labels ?? {};
      if (labels['io.kubernetes.pod.uid']) out.set(labels['io.kubernetes.pod.uid'], tasks.get(id) ?? 'NONE');
    }
    return out;
  };

  it("starts the pod's container with its secret env, configmap volume and service-account token; reports it Running and Ready", async () => {
    const admin = await kube.issueClientCert('masterclient', ['system:masters']);
    const call = kubeClient(kube);
    await call('POST', '/api/v1/namespaces/default/secrets', admin, { metadata: { name: 'db-password' }, stringData: { password: 's3cret' } });
    await call('POST', '/api/v1/namespaces/default/configmaps', admin, { metadata: { name: 'settings' }, data: { 'app.conf': 'mode=edge\n' } });
    startKubelet();
    await until(() => kube.readyCondition(NODE)?.status === 'True', 15_000, 'Node Ready').catch((e) => {
      throw new Error(`${e.message}; log:\n${log}`);
    });
    const pod = kube.seedPod({
      name: 'app',
      nodeName: NODE,
      phase: 'Pending',
      image: POD_IMAGE,
      labels: { app: 'app' },
      spec: {
        containers: [
          {
            name: 'main',
            image: POD_IMAGE,
            env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db-password', key: 'password' } } }],
            volumeMounts: [{ name: 'settings', mountPath: '/etc/app' }],
          },
        ],
        volumes: [{ name: 'settings', configMap: { name: 'settings' } }],
      },
    });
    await until(() => (kube.pod('default', 'app')?.status as { phase?: string } | undefined)?.phase === 'Running', 30_000, 'pod Running').catch((e) => {
      throw new Error(`${e.message}; log:\n${log}`);
    });
    expect(FakeKubeApi.ready(kube.pod('default', 'app'))).to.equal(true);
    expect((await podTasks()).get(pod.metadata.uid!)).to.equal('RUNNING');
    const id = (kube.pod('default', 'app')!.status!.containerStatuses as { containerID: string }[])[0]!.containerID.replace('containerd://', '');
    const exec = (cmd: string[]) => containerd!.ctr(['tasks', 'exec', '--exec-id', `t${Date.now()}`, id, ...cmd]);
    expect(await exec(['/bin/sh', '-c', 'echo $PASSWORD'])).to.equal('s3cret\n');
    expect(await exec(['/usr/bin/cat', '/etc/app/app.conf'])).to.equal('mode=edge\n');
    expect(await exec(['/usr/bin/cat', '/var/run/secrets/kubernetes.io/serviceaccount/namespace'])).to.equal('default');
    // what it fetched, it fetched as the node, which the Node authorizer allowed for a pod bound to it
    const mine = kube.audit
      .filter((e) => e.user === `system:node:${NODE}` && e.code < 300)
      .map((e) => `${e.verb} ${e.resource}${e.subresource ? `/${e.subresource}` : ''} ${e.name}`);
    expect(mine).to.include.members([
      'list secrets db-password',
      'list configmaps settings',
      'list configmaps kube-root-ca.crt',
      'create serviceaccounts/token default',
      'patch pods/status app',
    ]);
    expect(kube.denials()).to.deep.equal([]);
  });

  it('an eviction stops and removes the container, then the kubelet deletes the pod', async () => {
    const uid = kube.pod('default', 'app')!.metadata.uid!;
    const admin = await kube.issueClientCert('masterclient', ['system:masters']);
    const r = await kubeClient(kube)('POST', '/api/v1/namespaces/default/pods/app/eviction', admin, {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'app' },
    });
    expect(r.status).to.equal(201);
    await until(() => !kube.pod('default', 'app'), 20_000, 'the pod deleted by its kubelet').catch((e) => {
      throw new Error(`${e.message}; log:\n${log}`);
    });
    expect((await podTasks()).has(uid)).to.equal(false);
    const del = kube.audit.filter((e) => e.verb === 'delete' && e.resource === 'pods' && e.user === `system:node:${NODE}`).at(-1);
    expect(del?.code).to.equal(200);
  });

  it('a killed kubelet leaves its containers running; started again, it removes those of pods the API no longer has', async () => {
    const pod = kube.seedPod({ name: 'left', nodeName: NODE, phase: 'Pending', image: POD_IMAGE });
    await until(() => (kube.pod('default', 'left')?.status as { phase?: string } | undefined)?.phase === 'Running', 30_000, 'pod Running').catch((e) => {
      throw new Error(`${e.message}; log:\n${log}`);
    });
    await stopKubelet('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    expect((await podTasks()).get(pod.metadata.uid!), 'nothing stops containers but the kubelet').to.equal('RUNNING');
    kube.deleteObject('pods', 'default', 'left', { force: true });
    startKubelet();
    const end = Date.now() + 20_000;
    while ((await podTasks()).has(pod.metadata.uid!) && Date.now() < end) await new Promise((r) => setTimeout(r, 300));
    expect((await podTasks()).has(pod.metadata.uid!), log).to.equal(false);
    await stopKubelet('SIGTERM');
  });
});
