#!/usr/bin/env node
// STAND-IN kube-proxy for tests: no kube-proxy binary can be had on these machines (and a real one would rewrite the
// test machine's iptables). It takes the real kube-proxy's flags (unknown ones fail), reads its KubeProxyConfiguration
// strictly and its kubeconfig (exec credential, token or client certificate, as client-go), and makes the real
// kube-proxy's API calls with the identity it is given (cmd/kube-proxy/app/server.go): it waits for its Node
// (list+watch `metadata.name=<node>`), posts the "Starting" event (events.k8s.io/v1), and list+watches Services
// (`!service.kubernetes.io/service-proxy-name`, `spec.clusterIP!=None`), EndpointSlices (`!service.kubernetes.io/headless`)
// and, from 1.33, ServiceCIDRs. Where the real one programs iptables it logs what it would sync. It serves
// /healthz on healthzBindAddress (200 once synced) and /proxyMode, /metrics on metricsBindAddress. Any 401 or 403 from
// the API server is fatal (the kubelet stand-in's client): a role too small for kube-proxy fails the test using it.
// Installed as one file with the Kubernetes version baked in (install.ts). Test knob: KUBE_PROXY_STANDIN_ROOT (a
// prefix for the absolute paths of the config, for rigs that keep the machine under a temp root).
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { ApiClient, informer } from './kubelet/api.js';
import { arch, Fatal, kubeletVersion, log, rfc3339, setLogTag, sleep, type Dict, runIfMain } from './kubelet/common.js';
import { loadKubeconfig } from './kubelet/kubeconfig.js';
import { loadSettings, parseFlags, type ProxySettings } from './kube-proxy/config.js';

const TAG = 'kube-proxy stand-in';
const minor = () => Number(/^v1\.(\d+)\./.exec(kubeletVersion())?.[1] ?? 0);

/** What the proxier would program: the objects it knows, by key. */
class Proxier {
  readonly services = new Map<string, Dict>();
  readonly slices = new Map<string, Dict>();
  synced = false;
  lastSync = new Date();
  private pending?: NodeJS.Timeout;

  constructor(private readonly mode: string) {}

  handlers(map: Map<string, Dict>) {
    const key = (o: Dict) => {
      const m = o.metadata as Dict;
      return `${String(m.namespace ?? '')}/${String(m.name)}`;
    };
    return {
      onList: (items: Dict[]) => {
        map.clear();
        for (const o of items) map.set(key(o), o);
        this.schedule();
      },
      onEvent: (type: string, o: Dict) => {
        if (type === 'DELETED') map.delete(key(o));
        else map.set(key(o), o);
        this.schedule();
      },
    };
  }

  private schedule(): void {
    this.pending ??= setTimeout(() => {
      this.pending = undefined;
      const endpoints = [...this.slices.values()].reduce((n, s) => n + ((s.endpoints as unknown[] | undefined)?.length ?? 0), 0);
      log(
        'I',
        `Syncing ${this.mode} rules (stand-in: nothing programmed) services=${this.services.size} endpointSlices=${this.slices.size} endpoints=${endpoints}`,
      );
      this.synced = true;
      this.lastSync = new Date();
    }, 100);
  }
}

function serve(what: string, at: { host: string; port: number } | undefined, handle: (path: string) => { status: number; body: string; type: string }): void {
  if (!at) return;
  const server = http.createServer((req, res) => {
    const { status, body, type } = handle(new URL(req.url ?? '/', 'http://x').pathname);
    res.writeHead(status, { 'content-type': type, 'x-content-type-options': 'nosniff' }).end(body);
  });
  // bindAddressHardFail is off by default: a busy port is logged and the proxy goes on (tests share the host's network).
  server.on('error', (e) => log('E', `${what} server failed: ${(e as Error).message}`));
  server.listen(at.port, at.host).unref();
}

async function waitForNode(api: ApiClient, s: ProxySettings): Promise<Dict | undefined> {
  // proxy.NewNodeManager: the Node's addresses (and podCIDRs for detectLocalMode NodeCIDR) come from its object.
  const path = `/api/v1/nodes?fieldSelector=${encodeURIComponent(`metadata.name=${s.nodeName}`)}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await api.call('GET', path).catch((e: Error) => ({ status: 0, json: { message: e.message } as Dict }));
    const node = r.status === 200 ? ((r.json.items ?? []) as Dict[])[0] : undefined;
    const cidrs = ((node?.spec as Dict | undefined)?.podCIDRs ?? []) as string[];
    if (node && (s.detectLocalMode !== 'NodeCIDR' || cidrs.length > 0)) return node;
    if (Date.now() > deadline) {
      if (s.detectLocalMode === 'NodeCIDR')
        throw new Fatal(`timeout waiting for PodCIDR allocation to configure detect-local-mode NodeCIDR on node ${s.nodeName}`);
      log('W', `Unable to get node IP: node "${s.nodeName}" not found; kube-proxy assumes the loopback address`);
      return undefined;
    }
    log('I', `Waiting for node "${s.nodeName}"${node ? ' to have a podCIDR' : ''}`);
    await sleep(1000);
  }
}

async function main(argv: string[]): Promise<void> {
  setLogTag(TAG);
  const { flags, version } = parseFlags(argv);
  if (version !== undefined && version !== 'false') {
    console.log(version === 'raw' ? JSON.stringify({ gitVersion: kubeletVersion(), platform: `linux/${arch()}` }) : `Kubernetes ${kubeletVersion()}`);
    return;
  }
  if (flags.has('help')) {
    console.log(`The Kubernetes network proxy (${TAG}): list+watch Services and EndpointSlices, say what it would program.\n\nUsage:\n  kube-proxy [flags]`);
    return;
  }
  const s = loadSettings(flags);
  log('I', `Version info version="${kubeletVersion()}" (${TAG})`);
  log('I', `Using ${s.mode} Proxier node="${s.nodeName}" clusterCIDR="${s.clusterCIDRs.join(',')}" detectLocalMode="${s.detectLocalMode}"`);
  const api = new ApiClient(loadKubeconfig(s.kubeconfig), s.kubeconfig, 'kube-proxy');
  const node = await waitForNode(api, s);
  if (node) log('I', `Successfully retrieved node IPs addresses=${JSON.stringify((node.status as Dict | undefined)?.addresses ?? [])}`);

  let stop = false;
  const abort = new AbortController();
  const done = new Promise<void>((res) => {
    const bye = (sig: string) => {
      log('I', `Received ${sig}, exiting (rules are left in place, as kube-proxy does)`);
      stop = true;
      abort.abort();
      res();
    };
    process.once('SIGTERM', () => bye('SIGTERM'));
    process.once('SIGINT', () => bye('SIGINT'));
  });
  const stopped = () => stop;
  const proxier = new Proxier(s.mode);
  informer(
    api,
    `/api/v1/services?labelSelector=${encodeURIComponent('!service.kubernetes.io/service-proxy-name')}&fieldSelector=${encodeURIComponent('spec.clusterIP!=None')}`,
    proxier.handlers(proxier.services),
    stopped,
    abort.signal,
  );
  informer(
    api,
    `/apis/discovery.k8s.io/v1/endpointslices?labelSelector=${encodeURIComponent('!service.kubernetes.io/headless')}`,
    proxier.handlers(proxier.slices),
    stopped,
    abort.signal,
  );
  if (minor() >= 33) informer(api, '/apis/networking.k8s.io/v1/servicecidrs', { onList: () => undefined, onEvent: () => undefined }, stopped, abort.signal);
  informer(
    api,
    `/api/v1/nodes?fieldSelector=${encodeURIComponent(`metadata.name=${s.nodeName}`)}`,
    { onList: () => undefined, onEvent: () => undefined },
    stopped,
    abort.signal,
  );

  // The birth cry (ProxyServer.birthCry): an events.k8s.io/v1 Event about the Node, in "default".
  const ev = await api
    .call('POST', '/apis/events.k8s.io/v1/namespaces/default/events', {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: `${s.nodeName}.${randomBytes(8).toString('hex')}`, namespace: 'default' },
      eventTime: new Date().toISOString().replace('Z', '000Z'),
      reportingController: 'kube-proxy',
      reportingInstance: `kube-proxy-${s.nodeName}`,
      action: 'StartKubeProxy',
      reason: 'Starting',
      type: 'Normal',
      note: '',
      regarding: { kind: 'Node', name: s.nodeName, uid: s.nodeName },
    })
    .catch((e: Error) => ({ status: 0, json: { message: e.message } as Dict }));
  if (ev.status >= 300) log('W', `Server rejected event (will not retry): ${ev.status} ${String(ev.json.message ?? '')}`);

  serve('healthz', s.healthz, (path) =>
    path === '/healthz' || path === '/livez'
      ? {
          status: proxier.synced ? 200 : 503,
          type: 'application/json',
          body: JSON.stringify({ lastUpdated: rfc3339(proxier.lastSync), currentTime: rfc3339(), nodeEligible: true }),
        }
      : { status: 404, type: 'text/plain', body: '404 page not found\n' },
  );
  serve('metrics', s.metrics, (path) =>
    path === '/proxyMode'
      ? { status: 200, type: 'text/plain; charset=utf-8', body: s.mode }
      : path === '/metrics'
        ? {
            status: 200,
            type: 'text/plain',
            body: `# stand-in\nkubeproxy_sync_proxy_rules_last_timestamp_seconds ${Math.floor(proxier.lastSync.getTime() / 1000)}\n`,
          }
        : { status: 404, type: 'text/plain', body: '404 page not found\n' },
  );

  const keepAlive = setInterval(() => undefined, 1 << 30);
  await done;
  clearInterval(keepAlive);
}

runIfMain(import.meta.url, main);
