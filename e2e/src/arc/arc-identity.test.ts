// The node's identity: @azure/identity's real ManagedIdentityCredential (Azure Arc source) against the fake
// HIMDS, in child processes under a private mount namespace (a temp dir bind-mounted on /var/opt: msal insists
// on /var/opt/azcmagent/tokens/<name>.key). Covers the arc-identity service and `flexnode token` with its cache.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeHimds } from '../fakes/fake-himds.js';

const AKS = '6dae42f8-4368-4678-94ff-3960e28e3630';
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const E2E = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(REPO, 'packages/cli/bin/run.js');

describe('arc-identity and `flexnode token` against the fake HIMDS (private mount namespace)', function () {
  this.timeout(60_000);
  let tmp: string;
  let himds: FakeHimds;

  before(function () {
    if (process.getuid?.() !== 0) this.skip(); // unshare -m and mount need root
  });
  beforeEach(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'arc-identity-'));
    himds = await FakeHimds.start({ keyDir: join(tmp, 'varopt/azcmagent/tokens'), tokenLifetimeSec: 3600 });
  });
  afterEach(async () => {
    await himds?.stop().catch(() => undefined); // one test stops it early
    rmSync(tmp, { recursive: true, force: true });
  });

  /** Run `argv` in a private mount namespace with the temp dir on /var/opt and the fake HIMDS in the env. */
  const inNamespace = (argv: string[], env: Record<string, string> = {}) =>
    new Promise<{ stdout: string; stderr: string; ms: number }>((resolve, reject) => {
      const started = Date.now();
      execFile(
        'unshare',
        ['-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$VAROPT" /var/opt && exec "$@"', 'sh', ...argv],
        {
          cwd: E2E,
          env: { ...process.env, ...himds.env(), VAROPT: join(tmp, 'varopt'), ...env },
        },
        (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}\n${stdout}`)) : resolve({ stdout, stderr, ms: Date.now() - started }),
      );
    });

  it('the arc-identity service gets a token and names the exec command for the kubelet', async () => {
    const child = `
      import { ArcNodeIdentity } from '@flexnode/plugin-arc';
      const id = new ArcNodeIdentity(undefined);
      const t = await id.getToken('${AKS}/.default');
      console.log(JSON.stringify({ token: t.token, expiresOnTimestamp: t.expiresOnTimestamp, exec: id.execCredential('${AKS}') }));`;
    const out = await inNamespace([process.execPath, '--input-type=module', '-e', child], { FLEXNODE_BIN: CLI });
    const got = JSON.parse(out.stdout) as {
      token: string;
      expiresOnTimestamp: number;
      exec: { command: string; args: string[]; env?: Record<string, string> };
    };
    expect(himds.isIssued(got.token)).to.equal(true);
    expect(himds.issued.at(-1)!.resource).to.equal(AKS);
    expect(got.exec.command).to.equal(process.execPath);
    expect(got.exec.args).to.deep.equal([CLI, 'token', '--resource', AKS]);
    expect(got.exec.env).to.include(himds.env());
  });

  it('`flexnode token` prints an ExecCredential, caches it 0600 in a 0700 directory, and the next call is a cache hit', async () => {
    const cache = join(tmp, 'tokens');
    const argv = [process.execPath, CLI, 'token', '--resource', AKS, '--cache-dir', cache];
    const first = await inNamespace(argv);
    const cred = JSON.parse(first.stdout) as { kind: string; apiVersion: string; status: { token: string; expirationTimestamp: string } };
    expect(cred).to.include({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1beta1' });
    expect(himds.isIssued(cred.status.token)).to.equal(true);
    expect(Date.parse(cred.status.expirationTimestamp)).to.be.greaterThan(Date.now() + 50 * 60_000);
    expect(first.stderr).not.to.include(cred.status.token);
    expect(statSync(cache).mode & 0o777).to.equal(0o700);
    const [file] = readdirSync(cache);
    expect(statSync(join(cache, file!)).mode & 0o777).to.equal(0o600);

    const second = await inNamespace(argv, {
      KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', spec: { interactive: false } }),
    });
    const again = JSON.parse(second.stdout) as typeof cred;
    expect(again.status.token).to.equal(cred.status.token);
    expect(again.apiVersion).to.equal('client.authentication.k8s.io/v1');
    expect(himds.issued).to.have.length(1); // served from the cache: HIMDS was not asked again
    console.log(`      flexnode token: miss ${first.ms} ms, hit ${second.ms} ms (process start included)`);
  });

  it('`flexnode token` under a proxy whose NO_PROXY leaves out loopback still asks the Arc agent, not the proxy', async () => {
    // The Azure SDK proxies every host NO_PROXY does not name exactly, loopback included (Go programs never do),
    // and msal-node asks the agent at 127.0.0.1: a site's NO_PROXY rarely names it.
    const seen: string[] = [];
    const proxy = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(502).end();
    });
    proxy.on('connect', (req, socket) => {
      seen.push(`CONNECT ${req.url}`);
      socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const env = { HTTP_PROXY: url, http_proxy: url, HTTPS_PROXY: url, https_proxy: url, NO_PROXY: '.corp.example', no_proxy: '.corp.example' };
      const out = await inNamespace([process.execPath, CLI, 'token', '--resource', AKS, '--no-cache'], env);
      const cred = JSON.parse(out.stdout) as { status: { token: string } };
      expect(himds.isIssued(cred.status.token)).to.equal(true);
      expect(seen, 'requests the proxy received').to.deep.equal([]);
    } finally {
      proxy.close();
    }
  });

  it('`flexnode token --json`: a failure is a JSON error on stdout (exit 1), the success the same ExecCredential', async () => {
    const argv = [process.execPath, CLI, 'token', '--resource', AKS, '--no-cache', '--json'];
    const ok = JSON.parse((await inNamespace(argv)).stdout) as { kind: string; status: { token: string } };
    expect(ok.kind).to.equal('ExecCredential');
    expect(himds.isIssued(ok.status.token)).to.equal(true);
    await himds.stop(); // the identity endpoint is gone (loopback, a closed port)
    const failed = await inNamespace(argv).then(
      () => expect.fail('token succeeded without an identity endpoint'),
      (error: Error) => error.message,
    );
    const line = failed.split('\n').find((l) => l.startsWith('{"ok":false'));
    expect(line, failed).to.be.a('string');
    const document = JSON.parse(line!) as { ok: boolean; error: { code: string; message: string } };
    expect(document.ok).to.equal(false);
    expect(document.error.message).to.be.a('string').and.not.equal('');
  });
});
