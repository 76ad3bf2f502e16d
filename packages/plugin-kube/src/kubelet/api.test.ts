import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { apiRequest } from './api.js';

/** A CA and, signed by it, a server certificate for 127.0.0.1 and a client pair (the machine's openssl). */
function pki(dir: string, name: string) {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', `${name}-ca.key`, '-out', `${name}-ca.crt`, '-days', '2', '-subj', `/CN=${name}-ca`);
  const sign = (id: string, subject: string, ext: string) => {
    ssl('req', ...ec, '-keyout', `${id}.key`, '-out', `${id}.csr`, '-subj', subject);
    writeFileSync(join(dir, `${id}.ext`), ext);
    ssl(
      'x509',
      '-req',
      '-in',
      `${id}.csr`,
      '-CA',
      `${name}-ca.crt`,
      '-CAkey',
      `${name}-ca.key`,
      '-CAcreateserial',
      '-out',
      `${id}.crt`,
      '-days',
      '1',
      '-extfile',
      `${id}.ext`,
    );
    return { certPem: readFileSync(join(dir, `${id}.crt`), 'utf8'), keyPem: readFileSync(join(dir, `${id}.key`), 'utf8') };
  };
  return {
    caPem: readFileSync(join(dir, `${name}-ca.crt`), 'utf8'),
    server: sign(`${name}-server`, '/CN=apiserver', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'),
    client: sign(`${name}-client`, `/O=system:nodes/CN=system:node:${name}-node`, 'extendedKeyUsage=clientAuth\n'),
  };
}

describe('apiRequest (the API server over HTTPS, trusting exactly the cluster CA)', () => {
  let dir: string;
  let server: Server;
  let url: string;
  let cluster: ReturnType<typeof pki>;
  let other: ReturnType<typeof pki>;
  const seen: string[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kube-api-'));
    cluster = pki(dir, 'cluster');
    other = pki(dir, 'other');
    server = createServer(
      { cert: cluster.server.certPem, key: cluster.server.keyPem, ca: cluster.caPem, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        res.setHeader('content-type', 'application/json');
        const answer = JSON.stringify({ path: req.url, user: peer?.subject?.CN ?? null, authorization: req.headers.authorization ?? null });
        // /slow answers after 100 ms, so that requests made meanwhile are in flight together.
        setTimeout(() => res.end(answer), req.url === '/slow' ? 100 : 0);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('trusts the cluster CA it is given and no other, request after request', async () => {
    for (let i = 0; i < 2; i++) {
      const answer = await apiRequest({ server: url, caPem: cluster.caPem, credential: { token: 'tok' } }, 'GET', '/version');
      expect(answer).to.deep.equal({ status: 200, body: { path: '/version', user: null, authorization: 'Bearer tok' } });
      // Another CA (its context made after the cluster's): the server's certificate is refused.
      await apiRequest({ server: url, caPem: other.caPem }, 'GET', '/version').then(
        () => expect.fail('a server certificate of another CA was accepted'),
        (error: NodeJS.ErrnoException) => expect(error.code).to.match(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/),
      );
    }
  });

  it('presents the client certificate of the credential, and the right one when it changes', async () => {
    const answer = await apiRequest({ server: url, caPem: cluster.caPem, credential: cluster.client }, 'GET', '/api/v1/nodes/edge-1');
    expect(answer.body).to.deep.include({ user: 'system:node:cluster-node', authorization: null });
    const anonymous = await apiRequest({ server: url, caPem: cluster.caPem }, 'GET', '/version');
    expect(anonymous.body).to.deep.include({ user: null });
    const otherPair = await apiRequest({ server: url, caPem: cluster.caPem, credential: other.client }, 'GET', '/x');
    expect(otherPair.body).to.deep.include({ user: 'system:node:other-node' }); // presented (this server does not verify it)
  });

  it('GETs made while the same GET is in flight share its answer; other credentials, later GETs and writes do not', async () => {
    seen.length = 0;
    const get = (token: string, path = '/slow') => apiRequest({ server: url, caPem: cluster.caPem, credential: { token } }, 'GET', path);
    const [a, b, c] = await Promise.all([get('tok'), get('tok'), get('other')]);
    expect(seen.sort()).to.deep.equal(['GET /slow Bearer other', 'GET /slow Bearer tok']);
    expect(a).to.deep.equal(b);
    expect(c.body).to.deep.include({ authorization: 'Bearer other' });
    a.body.path = 'changed by one caller';
    expect(b.body.path).to.equal('/slow'); // each caller parses its own copy
    // Answered, the GET is forgotten: the next one goes to the server.
    await get('tok');
    expect(seen.filter((r) => r === 'GET /slow Bearer tok')).to.have.length(2);
    // Writes are never shared.
    seen.length = 0;
    const post = () => apiRequest({ server: url, caPem: cluster.caPem, credential: { token: 'tok' } }, 'POST', '/slow', { json: {} });
    await Promise.all([post(), post()]);
    expect(seen).to.deep.equal(['POST /slow Bearer tok', 'POST /slow Bearer tok']);
  });
});
