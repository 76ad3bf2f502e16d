#!/usr/bin/env node
// STAND-IN kubelet for tests: no kubelet binary can be had on these machines. It takes the real kubelet's flags
// (unknown ones fail like the real one), reads and validates its KubeletConfiguration, and makes the real kubelet's
// API calls with the identity it is given (the kubeconfig's exec credential, token or client certificate; with
// --bootstrap-kubeconfig and no usable --kubeconfig it first gets a client certificate through a CSR, as TLS
// bootstrapping does): registers its Node, reports node status and renews its Lease, creates its CSINode, posts
// events, watches its pods (spec.nodeName) and the services, runtime classes and CSI drivers, runs its pods'
// containers for real through containerd and reports their status, fetches their secrets, configmaps and
// service-account tokens, and serves :10250 with TokenReview/SubjectAccessReview authn/authz. Any 401 or 403 from
// the API server is fatal (see kubelet/api.ts). SIGTERM stops it and leaves the containers running.
// Installed as one file (install.ts bundles it with the Kubernetes version baked in). Version: the baked constant,
// else $KUBELET_STANDIN_VERSION, else a sidecar file `<script>.version`.
// Test knobs: KUBELET_STANDIN_SKIP_CRI_CHECK=1 (runtime and network assumed ready), KUBELET_STANDIN_HEARTBEAT_MS
// (status and lease interval), KUBELET_STANDIN_CTR (ctr binary), KUBELET_STANDIN_CSR_TIMEOUT_MS, KUBELET_STANDIN_CNI_CONF_DIR
// (instead of containerd's config.toml conf_dir).
import { existsSync } from 'node:fs';
import { ApiClient, informer } from './kubelet/api.js';
import { arch, Fatal, kubeletVersion, log, TAG, runIfMain } from './kubelet/common.js';
import { loadKubeletConfig, parseFlags, settings } from './kubelet/flags.js';
import { kubeconfigUsable, loadKubeconfig } from './kubelet/kubeconfig.js';
import { NodeAgent, socketAnswers } from './kubelet/node.js';
import { PodManager } from './kubelet/pods.js';
import { Ctr } from './kubelet/runtime.js';
import { startServer } from './kubelet/server.js';
import { requestClientCertificate, scheduleRotation, storeClientCertificate, writeKubeconfig } from './kubelet/tls-bootstrap.js';

export { parseYaml } from './kubelet/yaml.js';
export { parseFlags, parseNodeLabels, parseTaints } from './kubelet/flags.js';

async function main(argv: string[]): Promise<void> {
  const { flags, version } = parseFlags(argv);
  if (version !== undefined && version !== 'false') {
    console.log(version === 'raw' ? JSON.stringify({ gitVersion: kubeletVersion(), platform: `linux/${arch()}` }) : `Kubernetes ${kubeletVersion()}`);
    return;
  }
  if (flags.has('help')) {
    console.log(`The kubelet ${TAG}: registers a Node, reports it, runs its pods through containerd.\n\nUsage:\n  kubelet [flags]`);
    return;
  }
  const cfg = flags.has('config') ? loadKubeletConfig(flags.get('config')!) : {};
  const s = settings(flags, cfg);
  log('I', `Kubelet version kubeletVersion="${kubeletVersion()}" (${TAG})`);
  let stop = false;
  const stopped = () => stop;
  const abort = new AbortController();
  const done = new Promise<void>((res) => {
    const bye = (sig: string) => {
      log('I', `Received ${sig}, shutting down (containers are left running)`);
      stop = true;
      abort.abort();
      res();
    };
    process.once('SIGTERM', () => bye('SIGTERM'));
    process.once('SIGINT', () => bye('SIGINT'));
  });
  if (!s.kubeconfig) {
    log('W', 'No kubeconfig: standalone mode, not registering a node');
    return done;
  }
  if (!kubeconfigUsable(s.kubeconfig)) {
    if (!s.bootstrapKubeconfig) {
      if (!existsSync(s.kubeconfig)) throw new Fatal(`invalid kubeconfig: stat ${s.kubeconfig}: no such file or directory`);
      throw new Fatal(`invalid kubeconfig: ${s.kubeconfig} cannot be used and there is no --bootstrap-kubeconfig`);
    }
    log('I', `Using bootstrap kubeconfig to generate TLS client cert, key and kubeconfig file path="${s.bootstrapKubeconfig}"`);
    const boot = loadKubeconfig(s.bootstrapKubeconfig);
    const pair = await requestClientCertificate(new ApiClient(boot), s.name);
    const current = storeClientCertificate(s.certDir, pair);
    const caData = boot.tls.ca ? boot.tls.ca.toString('base64') : undefined;
    writeKubeconfig(s.kubeconfig, boot.url.toString().replace(/\/$/, ''), caData, current);
    log('I', `Wrote kubeconfig ${s.kubeconfig} with the client certificate ${current}`);
  }
  const api = new ApiClient(loadKubeconfig(s.kubeconfig), s.kubeconfig);
  if (s.rotateCertificates) scheduleRotation(api, s, stopped);

  const node = new NodeAgent(api, s);
  const ctr = new Ctr(s.criSocket ?? '/run/containerd/containerd.sock');
  let runtimeUp = false;
  let probing = false;
  // The runtime's own answer (ctr version), in the background: a runtime that hangs must not stall the heartbeat.
  const probeRuntime = async () => {
    if (probing) return;
    probing = true;
    try {
      const v = s.criSocket && (await socketAnswers(s.criSocket)) ? await ctr.version() : undefined;
      runtimeUp = !!v;
      if (v) node.runtimeVersion = `containerd://${v}`;
    } finally {
      probing = false;
    }
  };
  await Promise.race([probeRuntime(), new Promise((r) => setTimeout(r, 3000))]);
  setInterval(() => void probeRuntime(), 10_000).unref();
  if (!(await node.register(stopped))) return done;
  await node.event('Starting', 'Starting kubelet.');
  for (const reason of ['NodeHasSufficientMemory', 'NodeHasNoDiskPressure', 'NodeHasSufficientPID'])
    await node.event(reason, `Node ${s.name} status is now: ${reason}`);
  await node.event('NodeAllocatableEnforced', 'Updated Node Allocatable limit across pods');
  await node.ensureCsiNode();

  const pods = new PodManager(
    api,
    ctr,
    { name: s.name, hostIP: s.nodeIps[0] ?? '', rootDir: s.rootDir },
    () => runtimeUp,
    () => node.readiness,
  );
  const sel = encodeURIComponent(`spec.nodeName=${s.name}`);
  informer(api, `/api/v1/pods?fieldSelector=${sel}`, { onList: (items) => pods.onList(items), onEvent: (t, o) => pods.onEvent(t, o) }, stopped, abort.signal);
  informer(
    api,
    `/api/v1/nodes?fieldSelector=${encodeURIComponent(`metadata.name=${s.name}`)}`,
    { onList: (items) => items[0] && node.adopt(items[0]), onEvent: (_t, o) => node.adopt(o) },
    stopped,
    abort.signal,
  );
  for (const path of ['/api/v1/services', '/apis/node.k8s.io/v1/runtimeclasses', '/apis/storage.k8s.io/v1/csidrivers']) {
    informer(api, path, { onList: () => undefined, onEvent: () => undefined }, stopped, abort.signal);
  }
  const server = startServer(s, api, pods);

  const beat = async () => {
    if (stop) return;
    try {
      if (!runtimeUp) void probeRuntime();
      await node.updateStatus();
      await node.renewLease();
      await pods.sync();
    } catch (e) {
      log('E', `heartbeat failed: ${(e as Error).message}`);
    }
    if (!stop) setTimeout(beat, s.heartbeatMs).unref();
  };
  await beat();
  const keepAlive = setInterval(() => undefined, 1 << 30);
  await done;
  clearInterval(keepAlive);
  server?.close();
}

runIfMain(import.meta.url, main);
