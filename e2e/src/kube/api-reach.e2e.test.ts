// kube.network's way to the API server, for real: TCP and then TLS trusting only the cluster CA, against the FAKE
// Kubernetes API on loopback (it answers), a closed port (no TCP), a server whose certificate another CA signed (TCP
// but no TLS), a private cluster's name that does not resolve, and through a CONNECT proxy (NO_PROXY honoured).
// Addresses are named private or not. Nothing leaves loopback: the unresolvable name is looked up by the test.
import { expect } from 'chai';
import http from 'node:http';
import net from 'node:net';
import { describeAddresses, probeApiServer } from '@flexnode/plugin-kube';
import { FakeKubeApi } from '../fakes/fake-kube-api.js';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });

describe('the API server from the node: TCP, TLS with the cluster CA, private names and addresses', function () {
  this.timeout(60_000);
  let kube: FakeKubeApi;
  let other: FakeKubeApi;
  let proxy: http.Server | undefined;

  before(async () => {
    kube = await FakeKubeApi.start({ version: 'v1.35.6' });
    other = await FakeKubeApi.start({ version: 'v1.35.6' }); // another cluster: another CA
  });
  after(async () => {
    proxy?.close();
    await Promise.all([kube?.stop(), other?.stop()]);
  });

  const facts = (server: string, caPem: string, extra: { fqdn?: string; privateFqdn?: string } = {}) => ({ name: 'aks-1', server, caPem, ...extra });

  it('answers: TCP and TLS with the cluster CA and the server name checked', async () => {
    const r = await probeApiServer(facts(kube.url, kube.caPem, { fqdn: '127.0.0.1' }), {});
    expect(r).to.deep.include({ ok: true });
    expect(r.detail).to.match(/^the API server of aks-1 127\.0\.0\.1:\d+ \(127\.0\.0\.1\): TCP and TLS \(cluster CA, name checked\)$/);
  });

  it('a closed port: no TCP; a certificate of another CA: TCP but not TLS, said so with the fix', async () => {
    const closed = await probeApiServer(facts(`https://127.0.0.1:${await freePort()}`, kube.caPem), {});
    expect(closed.ok).to.equal(false);
    expect(closed.detail).to.match(/no TCP connection to 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    const wrongCa = await probeApiServer(facts(other.url, kube.caPem), {});
    expect(wrongCa.ok).to.equal(false);
    expect(wrongCa.detail).to.match(/TCP to 127\.0\.0\.1:\d+ works, TLS does not \(/);
    expect(wrongCa.fix).to.contain('a certificate the cluster CA did not sign');
  });

  it("a private cluster's name that does not resolve here is named as a private cluster's, with its DNS and network path", async () => {
    const name = 'aks-1-dns-4f2a.privatelink.westus2.azmk8s.io';
    // The name resolves nowhere (and no DNS query leaves the machine: the lookup is the test's).
    const nowhere = async () => {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    };
    const r = await probeApiServer(facts(`https://${name}:443`, kube.caPem, { privateFqdn: name }), {}, nowhere);
    expect(r.ok).to.equal(false);
    expect(r.detail).to.match(new RegExp(`^the private cluster aks-1's API server: ${name.replace(/\./g, '\\.')} does not resolve from here \\(ENOTFOUND`));
    expect(r.fix).to.contain("private cluster's name: it resolves through the cluster's private DNS zone").and.contain('VPN, ExpressRoute or VNet peering');
    expect(describeAddresses(['10.1.0.4', '20.50.1.1', 'fd00::4'])).to.equal('10.1.0.4, a private address; 20.50.1.1; fd00::4, a private address');
  });

  it('through the configured proxy (CONNECT), as the kubelet goes: any answer of /version proves TCP and TLS', async () => {
    const connects: string[] = [];
    proxy = http.createServer();
    proxy.on('connect', (req, socket) => {
      connects.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = net.connect(Number(port), host!, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(socket).pipe(upstream);
      });
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((r) => proxy!.listen(0, '127.0.0.1', () => r()));
    const at = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
    const r = await probeApiServer(facts(kube.url, kube.caPem), { https: at });
    expect(r).to.deep.include({ ok: true });
    expect(r.detail).to.contain(`via proxy ${at}`);
    expect(connects).to.deep.equal([new URL(kube.url).host]);
    const bypass = await probeApiServer(facts(kube.url, kube.caPem), { https: at, noProxy: '127.0.0.1' });
    expect(bypass.detail).to.contain('TCP and TLS');
    expect(connects).to.have.length(1);
  });
});
