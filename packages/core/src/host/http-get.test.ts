import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgents, httpGet, HttpGetError, proxyFor } from './http-get.js';

const listen = async (server: Server): Promise<number> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};
const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
const body = async (response: IncomingMessage) => {
  let text = '';
  for await (const chunk of response) text += chunk;
  return text;
};
const options = { idleTimeoutMs: 5_000, connectTimeoutMs: 5_000, env: {} };

/** A self-signed certificate for flexnode.test (its own CA), made with openssl for this run. */
function selfSigned() {
  const dir = mkdtempSync(join(tmpdir(), 'flexnode-tls-'));
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
        '/CN=flexnode.test',
        '-addext',
        'subjectAltName=DNS:flexnode.test',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A forward proxy: absolute-URI requests answered by fetching from `origin`, CONNECT tunnels to `tunnelTo`. */
async function startProxy(tunnelTo: () => number, options: { requireAuth?: string; refuse?: boolean } = {}) {
  const seen: { method: string; url: string; auth?: string }[] = [];
  const proxy = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers['proxy-authorization'] });
    res.end(`proxied ${req.url}`);
  });
  const tunnels = new Set<Socket>(); // an upgraded socket is no longer the server's: close() would wait for it
  proxy.on('connect', (req: IncomingMessage, client: Socket) => {
    tunnels.add(client);
    seen.push({ method: 'CONNECT', url: req.url ?? '', auth: req.headers['proxy-authorization'] });
    if (options.refuse || (options.requireAuth && req.headers['proxy-authorization'] !== options.requireAuth)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
      return;
    }
    const upstream = connect(tunnelTo(), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  const port = await listen(proxy);
  return {
    seen,
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => {
      for (const socket of tunnels) socket.destroy();
      return close(proxy);
    },
  };
}

describe('host/http-get', () => {
  it('gets over plain HTTP with keep-alive agents, and follows redirects up to a limit', async () => {
    let hits = 0;
    const server = createServer((req, res) => {
      hits++;
      if (req.url === '/loop') return res.writeHead(302, { location: '/loop' }).end();
      if (req.url === '/moved') return res.writeHead(301, { location: '/file' }).end();
      res.end(`file at ${req.url}`);
    });
    const port = await listen(server);
    const agents = createAgents();
    try {
      const response = await httpGet(`http://127.0.0.1:${port}/moved`, { ...options, agents });
      expect(response.statusCode).to.equal(200);
      expect(await body(response)).to.equal('file at /file');
      const error = await httpGet(`http://127.0.0.1:${port}/loop`, { ...options, agents }).catch((e: HttpGetError) => e);
      expect(error).to.be.instanceOf(HttpGetError).and.include({ code: 'TOO_MANY_REDIRECTS' });
      expect(hits).to.equal(2 + 11);
    } finally {
      agents.http.destroy();
      await close(server);
    }
  });

  it('an https URL goes through the proxy in a CONNECT tunnel (with proxy credentials), verified against its CA', async () => {
    const tls = selfSigned();
    const origin = createHttpsServer(tls, (req, res) => res.end(`secure ${req.url}`));
    const originPort = await listen(origin as unknown as Server);
    const proxy = await startProxy(() => originPort, { requireAuth: `Basic ${Buffer.from('ops:s3cr:et').toString('base64')}` });
    try {
      const withAuth = `http://ops:${encodeURIComponent('s3cr:et')}@127.0.0.1:${proxy.port}`;
      const response = await httpGet('https://flexnode.test/releases/a.tgz', { ...options, ca: tls.cert, proxy: { https: withAuth } });
      expect(await body(response)).to.equal('secure /releases/a.tgz');
      expect(proxy.seen).to.deep.equal([{ method: 'CONNECT', url: 'flexnode.test:443', auth: `Basic ${Buffer.from('ops:s3cr:et').toString('base64')}` }]);

      // Without the CA the certificate is refused; a proxy refusing the tunnel is a clear error.
      const untrusted = await httpGet('https://flexnode.test/a', { ...options, proxy: { https: withAuth } }).catch((e: Error) => e);
      expect((untrusted as NodeJS.ErrnoException).code).to.match(/SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/);
      const refused = await httpGet('https://flexnode.test/a', { ...options, ca: tls.cert, proxy: { https: proxy.url } }).catch((e: Error) => e);
      expect(refused).to.be.instanceOf(HttpGetError).and.include({ code: 'PROXY_REFUSED' });
      expect((refused as Error).message).to.contain('HTTP 407');
    } finally {
      await proxy.close();
      await close(origin as unknown as Server);
    }
  });

  it('an http URL goes to the proxy as an absolute URI; an https URL falls back to the http proxy', async () => {
    const proxy = await startProxy(() => 0);
    try {
      const response = await httpGet('http://mirror.example.test:8080/x', { ...options, env: { HTTP_PROXY: proxy.url } });
      expect(await body(response)).to.equal('proxied http://mirror.example.test:8080/x');
      expect(proxyFor(new URL('https://a.example'), undefined, { HTTP_PROXY: proxy.url })?.href).to.equal(`${proxy.url}/`);
    } finally {
      await proxy.close();
    }
  });

  it('an idle server fails with IDLE_TIMEOUT, also in the middle of the body', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/body') {
        res.writeHead(200, { 'content-length': '1000' });
        res.write('x'.repeat(10)); // then nothing
      } // '/headers': nothing at all
    });
    const port = await listen(server);
    try {
      const early = await httpGet(`http://127.0.0.1:${port}/headers`, { ...options, idleTimeoutMs: 200 }).catch((e: HttpGetError) => e);
      expect(early).to.be.instanceOf(HttpGetError).and.include({ code: 'IDLE_TIMEOUT' });
      const response = await httpGet(`http://127.0.0.1:${port}/body`, { ...options, idleTimeoutMs: 200 });
      const late = await body(response).catch((e: HttpGetError) => e);
      expect(late).to.be.instanceOf(HttpGetError).and.include({ code: 'IDLE_TIMEOUT' });
    } finally {
      await close(server);
    }
  });

  it('chooses the proxy: config over environment, NO_PROXY by host, subdomain, wildcard and port', () => {
    const env = { HTTPS_PROXY: 'http://env-proxy:3128', NO_PROXY: 'internal.example, .corp.test,10.0.0.5,mirror.local:8443' };
    const via = (url: string, config?: { https?: string; noProxy?: string }) => proxyFor(new URL(url), config, env)?.host;
    expect(via('https://github.com/x')).to.equal('env-proxy:3128');
    expect(via('https://github.com/x', { https: 'cfg-proxy:8080' })).to.equal('cfg-proxy:8080'); // scheme-less: http://
    expect(via('https://internal.example/x')).to.equal(undefined);
    expect(via('https://a.internal.example/x')).to.equal(undefined);
    expect(via('https://notinternal.example/x')).to.equal('env-proxy:3128');
    expect(via('https://b.corp.test/x')).to.equal(undefined);
    expect(via('https://10.0.0.5/x')).to.equal(undefined);
    expect(via('https://mirror.local:8443/x')).to.equal(undefined);
    expect(via('https://mirror.local/x')).to.equal('env-proxy:3128'); // another port
    expect(via('https://github.com/x', { noProxy: '*' })).to.equal(undefined);
    expect(proxyFor(new URL('http://github.com/x'), undefined, env)).to.equal(undefined); // no http proxy set
  });
});
