import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryHost, runStepCycle, testConfig } from '@flexnode/sdk/testing';
import { isFlexnodeError } from '@flexnode/sdk';
import { expect } from 'chai';
import { runPreflight, type PreflightReadings, type ProbeResult } from './checks.js';
import { rememberProbes } from './probe-memo.js';
import { preflightTargets } from './endpoints.js';
import { noProxyMatches } from '@flexnode/sdk';
import { effectiveProxy, probeUrl } from './probe.js';
import { hostView, listenersBySs, listenersInProc, machineReadings, portBusy, rootView } from './readings.js';
import { createPreflightStep } from '../steps.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');

/** A machine that passes everything (2 cores/24 GB like these test machines); override one reading per test. */
function readings(over: Partial<PreflightReadings> = {}): PreflightReadings {
  return {
    osRelease: async () => 'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nID=ubuntu\nVERSION_ID="22.04"\n',
    machine: async () => 'x86_64',
    memTotalBytes: async () => 24 * 1024 ** 3,
    diskFreeBytes: async () => 200e9,
    cgroupVersion: async () => 'v2',
    rootIsThisMachine: true,
    portBusy: async () => undefined,
    ourKubeletRunning: async () => false,
    now: () => NOW,
    probe: async () => ({ ok: true, status: 400, date: new Date(NOW - 5_000).toUTCString(), via: '' }),
    ...over,
  };
}

const targets = preflightTargets(testConfig());
const byName = async (r: PreflightReadings, skip: string[] = []) => {
  const report = await runPreflight(r, targets, skip);
  return { report, c: Object.fromEntries(report.checks.map((x) => [x.name, x])) };
};

describe('preflight checks (injected readings)', () => {
  it('pass on a good machine', async () => {
    const { report } = await byName(readings());
    expect(report.ok).to.equal(true);
    expect(report.checks.map((c) => `${c.name}:${c.status}`)).to.deep.equal([
      'os:pass',
      'arch:pass',
      'memory:pass',
      'disk:pass',
      'cgroup:pass',
      'port-10250:pass',
      'clock:pass',
      'azure-endpoint:pass',
      'artifact-endpoint:pass',
    ]);
    expect(targets.azureEndpoint).to.equal('https://management.azure.com/');
    expect(targets.artifactEndpoint).to.equal('https://dl.k8s.io/');
  });

  it('fail each with a reading below the bar, and say what to do', async () => {
    const { report, c } = await byName(
      readings({
        machine: async () => 's390x',
        memTotalBytes: async () => 1.5 * 1024 ** 3,
        diskFreeBytes: async () => 12e9,
        portBusy: async () => 'something already listens on port 10250',
        now: () => Date.parse('2020-01-01T00:00:00Z'),
        probe: async () => ({ ok: false, error: 'connect ECONNREFUSED', via: ' via proxy http://proxy:3128' }),
      }),
    );
    expect(report.ok).to.equal(false);
    for (const name of ['arch', 'memory', 'disk', 'port-10250', 'clock', 'azure-endpoint', 'artifact-endpoint']) {
      expect(c[name]!.status, name).to.equal('fail');
      expect(c[name]!.fix, name).to.be.a('string').and.not.empty;
    }
    expect(c.memory!.detail).to.match(/1\.5 GiB of RAM, less than 2 GB/);
    expect(c.disk!.detail).to.match(/12\.0 GB free on \/var\/lib, less than 25 GB/);
    expect(c['azure-endpoint']!.detail).to.match(/via proxy http:\/\/proxy:3128: connect ECONNREFUSED/);
  });

  it('warn where the machine may still work: untested OS, cgroup v1, unreadable values, a small clock skew', async () => {
    const { report, c } = await byName(
      readings({
        osRelease: async () => 'ID=fedora\nVERSION_ID=40\nPRETTY_NAME="Fedora Linux 40"\n',
        cgroupVersion: async () => 'v1',
        memTotalBytes: async () => undefined,
        probe: async () => ({ ok: true, status: 400, date: new Date(NOW - 120_000).toUTCString(), via: '' }),
      }),
    );
    expect(report.ok).to.equal(true);
    expect([c.os!.status, c.cgroup!.status, c.memory!.status, c.clock!.status]).to.deep.equal(['warn', 'warn', 'warn', 'warn']);
    expect(c.clock!.detail).to.equal('120 s ahead of Azure');
  });

  it('clock: more than 5 minutes off Azure fails; no answer from Azure is no comparison', async () => {
    expect(
      (await byName(readings({ probe: async () => ({ ok: true, status: 400, date: new Date(NOW + 600_000).toUTCString(), via: '' }) }))).c.clock!.status,
    ).to.equal('fail');
    const { c } = await byName(readings({ probe: async () => ({ ok: false, error: 'timeout', via: '' }) }));
    expect(c.clock).to.deep.include({ status: 'pass' });
    expect(c.clock!.detail).to.match(/not compared with Azure/);
  });

  it('port 10250 held by the kubelet flexnode installed passes (status after bootstrap stays healthy), without reading the sockets', async () => {
    let read = 0;
    const busy = async () => (read++, 'something already listens on port 10250');
    const { c } = await byName(readings({ portBusy: busy, ourKubeletRunning: async () => true }));
    expect(c['port-10250']).to.deep.include({ status: 'pass', detail: 'held by the kubelet flexnode installed' });
    expect(read).to.equal(0);
    const other = await byName(readings({ portBusy: busy, ourKubeletRunning: async () => false }));
    expect(other.c['port-10250']).to.deep.include({ status: 'fail', detail: 'something already listens on port 10250' });
    expect(read).to.equal(1);
  });

  it("a --root that is not this machine's root: port 10250 is not read (that tree's kubelet listens where it boots)", async () => {
    let asked = 0;
    const count = async () => (asked++, 'something already listens on port 10250');
    const { report, c } = await byName(readings({ rootIsThisMachine: false, portBusy: count, ourKubeletRunning: async () => (asked++, false) }));
    expect(c['port-10250']).to.deep.include({ status: 'skip' });
    expect(c['port-10250']!.detail).to.match(/--root is not this machine's root/);
    expect(asked).to.equal(0);
    expect(report.ok).to.equal(true);
    expect(rootView('/', '/x').rootIsThisMachine).to.equal(true);
    expect(rootView('/tmp/sandbox', '/x').rootIsThisMachine).to.equal(false);
  });

  it("a mirror's user and password never show in a check's detail", async () => {
    const secret = { ...targets, artifactEndpoint: 'https://reader:s3cr3t@mirror.internal/flexnode/', mirror: true };
    for (const probe of [async () => ({ ok: true as const, status: 200, via: '' }), async () => ({ ok: false as const, error: 'timeout', via: '' })]) {
      const report = await runPreflight(readings({ probe }), secret, []);
      const detail = report.checks.find((x) => x.name === 'artifact-endpoint')!.detail;
      expect(detail).to.match(/^https:\/\/\*\*\*@mirror\.internal\/flexnode\/ (answered|unreachable)/);
      expect(JSON.stringify(report)).to.not.contain('s3cr3t');
    }
  });

  it('both endpoint probes start before any reading of the machine', async () => {
    const order: string[] = [];
    const r = readings({
      probe: async (url: string) => (order.push(`probe ${url}`), { ok: false, error: 'refused', via: '' }),
      osRelease: async () => (order.push('os'), 'ID=ubuntu\nVERSION_ID="24.04"\n'),
      portBusy: async () => (order.push('port'), undefined),
    });
    await byName(r);
    expect(order.slice(0, 2).every((s) => s.startsWith('probe '))).to.equal(true);
    expect(order.filter((s) => s.startsWith('probe ')).length).to.equal(2);
  });

  it('skips checks by name, and reports names that are no check', async () => {
    const { report, c } = await byName(readings({ memTotalBytes: async () => 1024 ** 3 }), ['memory', 'disk', 'memroy']);
    expect(report.ok).to.equal(true);
    expect(c.memory!.status).to.equal('skip');
    expect(c.disk!.status).to.equal('skip');
    expect(report.unknownSkips).to.deep.equal(['memroy']);
    const all = await runPreflight(readings({ machine: async () => 'mips' }), targets, ['all']);
    expect(all.checks.every((x) => x.status === 'skip')).to.equal(true);
  });

  it('a reading that throws is a warning, not a crash', async () => {
    const { c } = await byName(
      readings({
        diskFreeBytes: async () => {
          throw new Error('EIO');
        },
      }),
    );
    expect(c.disk).to.deep.include({ status: 'warn' });
    expect(c.disk!.detail).to.match(/EIO/);
  });

  it('targets follow the config: sovereign clouds, endpoint overrides, the mirror', () => {
    expect(preflightTargets(testConfig({ azure: { ...testConfig().azure, cloud: 'AzureChinaCloud' } })).azureEndpoint).to.equal(
      'https://management.chinacloudapi.cn/',
    );
    const t = preflightTargets(
      testConfig({
        azure: { ...testConfig().azure, endpoints: { resourceManager: 'https://127.0.0.1:8443' } },
        artifacts: { mirror: 'http://mirror.local/base/' },
      }),
    );
    expect(t).to.deep.equal({ azureEndpoint: 'https://127.0.0.1:8443/', artifactEndpoint: 'http://mirror.local/base/', mirror: true });
  });
});

describe('kube.preflight step', () => {
  it('passes: check ok, nothing installed, nothing changed (runStepCycle)', async () => {
    const step = createPreflightStep(() => readings());
    const report = await runStepCycle(step, { config: testConfig() });
    expect(report.initial['kube.preflight']).to.deep.include({ status: 'ok' });
    expect(report.installOps).to.deep.equal([]);
  });

  it('fails: check lists every failure, install throws them all with the skip hint, and changes nothing', async () => {
    const step = createPreflightStep(() => readings({ memTotalBytes: async () => 1024 ** 3, diskFreeBytes: async () => 1e9 }));
    const host = new MemoryHost();
    const inst = step.create({ host: host.forStep('kube.preflight'), config: testConfig() });
    const check = await inst.check();
    expect(check.status).to.equal('missing');
    expect(check.status !== 'ok' && check.reason).to.match(/memory: .*; disk: /);
    let error: unknown;
    await inst.install().catch((e: unknown) => (error = e));
    expect(isFlexnodeError(error)).to.equal(true);
    const e = error as Error & { code: string; hint?: string };
    expect(e.code).to.equal('PREFLIGHT_FAILED');
    expect(e.message).to.match(/2 preflight check\(s\) failed:\n {2}- memory: .*\n {4}fix: .*\n {2}- disk: /);
    expect(e.hint).to.match(/skipPreflight.*"memory"/);
    expect(host.ops).to.deep.equal([]);
  });

  it('an instance reuses a probe answer (10 min if it answered, 30 s if not), moving its Date with the clock', async () => {
    let t = NOW;
    let probes = 0;
    let up = true;
    const remembered = rememberProbes(() => t);
    const probe = async (): Promise<ProbeResult> => {
      probes++;
      return up ? { ok: true, status: 404, date: new Date(t).toUTCString(), via: '' } : { ok: false, error: 'refused', via: '' };
    };
    await remembered('https://a', probe);
    t += 5 * 60_000;
    const again = await remembered('https://a', probe);
    expect(probes).to.equal(1);
    expect(Date.parse((again as { date: string }).date)).to.equal(t); // no false skew from the reused answer
    t += 5 * 60_000;
    up = false;
    expect((await remembered('https://a', probe)).ok).to.equal(false);
    expect(probes).to.equal(2);
    t += 20_000;
    await remembered('https://a', probe);
    expect(probes).to.equal(2);
    t += 20_000;
    up = true;
    expect((await remembered('https://a', probe)).ok).to.equal(true);
    expect(probes).to.equal(3);
  });

  it('check and install of one step instance probe the network once', async () => {
    let probes = 0;
    const step = createPreflightStep(() => readings({ probe: async () => (probes++, { ok: true, status: 404, date: new Date(NOW).toUTCString(), via: '' }) }));
    const inst = step.create({ host: new MemoryHost().forStep('kube.preflight'), config: testConfig() });
    await inst.check();
    const first = probes; // one per endpoint (Azure, artifacts)
    expect(first).to.be.greaterThan(0);
    await inst.install();
    await inst.check();
    expect(probes).to.equal(first);
  });

  it('skipPreflight from the config lets a small machine through', async () => {
    const step = createPreflightStep(() => readings({ memTotalBytes: async () => 1024 ** 3 }));
    const config = testConfig({ pluginConfig: { '@flexnode/plugin-kube': { skipPreflight: ['memory'] } } });
    const report = await runStepCycle(step, { config });
    expect(report.initial['kube.preflight']).to.deep.include({ status: 'ok' });
    expect((report.initial['kube.preflight'] as { detail: string }).detail).to.match(/skipped: memory/);
  });

  it('the default readings go through the Host: os-release, meminfo, cgroup v2, our kubelet', async () => {
    const host = new MemoryHost();
    host.seedFile('/etc/os-release', 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n');
    host.seedFile('/proc/meminfo', 'MemTotal:        1048576 kB\nMemFree: 1 kB\n');
    host.seedFile('/sys/fs/cgroup/cgroup.controllers', 'cpu memory pids\n');
    const r = machineReadings(hostView(host.forStep('kube.preflight'), '/etc/systemd/system/kubelet.service.d/10-flexnode.conf'), {});
    expect(await r.memTotalBytes()).to.equal(1024 ** 3);
    expect(await r.cgroupVersion()).to.equal('v2');
    expect(await r.ourKubeletRunning()).to.equal(false);
    expect(r.rootIsThisMachine).to.equal(true); // MemoryHost stands for the machine's own root
    const { c } = await byName({ ...r, probe: readings().probe, portBusy: async () => undefined });
    expect(c.os).to.deep.include({ status: 'pass', detail: 'Debian GNU/Linux 12 (bookworm)' });
    expect(c.memory!.status).to.equal('fail');
  });
});

describe('preflight network probes', () => {
  let target: http.Server;
  let proxy: http.Server;
  const proxied: string[] = [];
  let targetUrl = '';
  let proxyUrl = '';

  before(async () => {
    target = http.createServer((_req, res) => res.writeHead(404, { date: new Date(NOW).toUTCString() }).end());
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/`;
    // A forward proxy: plain http in absolute form; CONNECT refused (403) to prove it is asked.
    proxy = http.createServer((req, res) => {
      proxied.push(`${req.method} ${req.url}`);
      http.get(req.url!, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
    });
    proxy.on('connect', (req, socket) => {
      proxied.push(`CONNECT ${req.url}`);
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  after(() => {
    target.close();
    proxy.close();
  });

  it('any HTTP answer is reachable, with the Date header; a closed port is not', async () => {
    const r = await probeUrl(targetUrl, {});
    expect(r).to.deep.include({ ok: true, status: 404, via: '' });
    expect(r.ok && Date.parse(r.date!)).to.equal(NOW);
    const closed = await probeUrl('http://127.0.0.1:1/', {});
    expect(closed.ok).to.equal(false);
    expect(!closed.ok && closed.error).to.match(/ECONNREFUSED/);
  });

  it('a proxy without a scheme is http://, as curl reads it; one that is no URL is said so, not dialled', async () => {
    const hostPort = proxyUrl.replace(/^http:\/\//, '');
    const asked = proxied.length;
    const viaBare = await probeUrl(targetUrl, { http: hostPort });
    expect(viaBare).to.deep.include({ ok: true, status: 404 });
    expect(proxied.slice(asked), 'through the proxy').to.deep.equal([`GET ${targetUrl}`]);
    const junk = await probeUrl(targetUrl, { http: 'not a url at all' });
    expect(junk).to.deep.include({ ok: false });
    expect(!junk.ok && junk.error).to.match(/^the proxy not a url at all is not a URL like http:\/\/proxy\.example:3128$/);
  });

  it("a proxy URL that does not parse (a password with '#', no scheme) is never shown with its password, nor dialled", async () => {
    // Some parse as something else (http://svc:2024#frag@proxy reads as host svc, port 2024, a fragment).
    for (const proxyUrl of [
      'http://svc:Pa#ss2024@proxy.corp:3128',
      'u:Pa#ss2024@[bad:1',
      'http://u:Pa/ss[2024@[bad:1',
      'http://svc:2024#frag@proxy.corp:3128',
      'http://svc:12345?tok2024@proxy.corp:3128',
    ]) {
      const r = await probeUrl(targetUrl, { http: proxyUrl, https: proxyUrl });
      expect(r.ok, proxyUrl).to.equal(false);
      expect(r.via, proxyUrl).to.match(/^ via proxy (http:\/\/)?\*\*\*@/);
      expect(JSON.stringify(r), proxyUrl).to.not.contain('2024');
      // Not dialled (svc:2024 would be another host): said to be mis-encoded.
      expect(!r.ok && r.error, proxyUrl).to.match(/percent-encoded/);
    }
  });

  it('https: TLS is verified, and made only once TCP is up; a silent endpoint times out and leaves no socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flexnode-probe-tls-'));
    let server: https.Server | undefined;
    let silent: net.Server | undefined;
    let tunneling: http.Server | undefined;
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
      server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (_req, res) =>
        res.writeHead(404, { date: new Date(NOW).toUTCString() }).end(),
      );
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const trusted = await probeUrl(url, {}, 5000, { ca: cert });
      expect(trusted).to.deep.include({ ok: true, status: 404, via: '' });
      expect(trusted.ok && Date.parse(trusted.date!)).to.equal(NOW);
      const untrusted = await probeUrl(url, {});
      expect(untrusted.ok).to.equal(false);
      expect(!untrusted.ok && untrusted.error).to.match(/self[- ]signed|unable to verify/i);
      const closed = await probeUrl('https://127.0.0.1:1/', {});
      expect(!closed.ok && closed.error).to.match(/ECONNREFUSED/);

      // Through a CONNECT proxy that tunnels: TLS runs inside the tunnel (the proxy sees only CONNECT).
      const tunnels: string[] = [];
      tunneling = http.createServer((_req, res) => res.writeHead(405).end());
      tunneling.on('connect', (req, client: net.Socket) => {
        tunnels.push(req.url!);
        const [h, p] = req.url!.split(':');
        const upstream = net.connect(Number(p), h, () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          upstream.pipe(client).pipe(upstream);
        });
        upstream.on('error', () => client.destroy());
      });
      await new Promise<void>((r) => tunneling!.listen(0, '127.0.0.1', r));
      const viaTunnel = await probeUrl(url, { https: `http://127.0.0.1:${(tunneling.address() as AddressInfo).port}` }, 5000, { ca: cert });
      expect(viaTunnel).to.deep.include({ ok: true, status: 404 });
      expect(tunnels).to.deep.equal([url.slice('https://'.length, -1)]);

      const open = new Set<net.Socket>();
      silent = net.createServer((s) => (open.add(s), s.resume(), s.on('close', () => open.delete(s))));
      await new Promise<void>((r) => silent!.listen(0, '127.0.0.1', r));
      const started = Date.now();
      const quiet = await probeUrl(`https://127.0.0.1:${(silent.address() as AddressInfo).port}/`, {}, 200);
      expect(!quiet.ok && quiet.error).to.equal('no answer within 0.2 s');
      expect(Date.now() - started).to.be.lessThan(2000);
      const deadline = Date.now() + 2000;
      while (open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(open.size, 'the probe closed its socket').to.equal(0);
    } finally {
      server?.close();
      silent?.close();
      tunneling?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('goes through the proxy (http: absolute form; https: CONNECT) unless NO_PROXY exempts the host', async () => {
    proxied.length = 0;
    const viaProxy = await probeUrl(targetUrl, { http: proxyUrl });
    expect(viaProxy).to.deep.include({ ok: true, status: 404, via: ` via proxy ${proxyUrl}` });
    const refused = await probeUrl('https://management.example.test/', { https: proxyUrl });
    expect(refused.ok).to.equal(false);
    expect(!refused.ok && refused.error).to.match(/proxy refused CONNECT management\.example\.test:443 with HTTP 403/);
    expect(proxied).to.deep.equal([`GET ${targetUrl}`, 'CONNECT management.example.test:443']);
    proxied.length = 0;
    expect(await probeUrl(targetUrl, { http: proxyUrl, noProxy: 'localhost,127.0.0.1' })).to.deep.include({ ok: true, via: '' });
    expect(proxied).to.deep.equal([]);
  });

  it('a port is busy while a socket listens on it (IPv4 or IPv6), by ss, the kernel tables or, without them, a listen attempt', async () => {
    for (const host of ['127.0.0.1', '::1']) {
      const server = net.createServer();
      const listening = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false)); // no IPv6 on this machine
        server.listen(0, host, () => resolve(true));
      });
      if (!listening) continue;
      const port = (server.address() as AddressInfo).port;
      expect(await listenersBySs(port), host).to.equal(true);
      expect(await listenersInProc(port), host).to.equal(true);
      expect(await portBusy(port), host).to.equal(`something already listens on port ${port}`);
      await new Promise((r) => server.close(r));
      expect(await listenersBySs(port), host).to.equal(false);
      expect(await listenersInProc(port), host).to.equal(false);
      expect(await portBusy(port), host).to.equal(undefined);
    }
    // An ss that is not there, or that fails (an old one without -H), does not answer: /proc/net does.
    expect(await listenersBySs(10250, '/nonexistent/ss')).to.equal(undefined);
    expect(await listenersBySs(10250, 'false')).to.equal(undefined);
    // Without /proc/net: the listen attempt answers the same.
    const dir = mkdtempSync(join(tmpdir(), 'flexnode-noproc-'));
    try {
      expect(await listenersInProc(10250, dir)).to.equal(undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('NO_PROXY matching and the environment fallback', () => {
    // The SDK's matcher (curl's rules), as the probes use it: an entry's port limits it to that port.
    expect(noProxyMatches('.k8s.io', 'dl.k8s.io', 443)).to.equal(true);
    expect(noProxyMatches('k8s.io', 'dl.k8s.io', 443)).to.equal(true);
    expect(noProxyMatches('.k8s.io', 'k8s.io', 443)).to.equal(true);
    expect(noProxyMatches('k8s.io', 'evilk8s.io', 443)).to.equal(false);
    expect(noProxyMatches('*', 'anything', 443)).to.equal(true);
    expect(noProxyMatches('10.0.0.1:8080', '10.0.0.1', 8080)).to.equal(true);
    expect(noProxyMatches('10.0.0.1:8080', '10.0.0.1', 443)).to.equal(false);
    expect(effectiveProxy(undefined, { HTTPS_PROXY: 'http://p:1', no_proxy: 'x' })).to.deep.equal({ https: 'http://p:1', http: undefined, noProxy: 'x' });
    expect(effectiveProxy({ https: 'http://cfg:2' }, { HTTPS_PROXY: 'http://p:1' }).https).to.equal('http://cfg:2');
  });
});
