// The kubelet STAND-IN's kubeconfig handling as client-go's: current context, cluster server and CA, and the user's
// credential: a static token, a token file, client certificate and key (data or files, resolved against the
// kubeconfig's directory), or an exec credential plugin (ExecCredential v1/v1beta1, cached until it expires,
// re-run once on a 401).
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Fatal, log, type Dict } from './common.js';
import { parseYaml } from './yaml.js';

export interface ApiTarget {
  url: URL;
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean };
  creds: Credentials;
}

function namedEntry(list: unknown, name: unknown, what: string, path: string): Dict {
  const found = (Array.isArray(list) ? list : []).find((e: Dict) => e?.name === name) as Dict | undefined;
  if (!found) throw new Fatal(`invalid kubeconfig ${path}: ${what} "${String(name)}" not found`);
  return (found[what === 'context' ? 'context' : what] ?? {}) as Dict;
}

function fileOrData(data: unknown, file: unknown, base: string): Buffer | undefined {
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
  if (typeof file === 'string' && file) return readFileSync(resolve(base, file));
  return undefined;
}

/** Only the PEM blocks of a type (the kubelet's pair file holds the certificate and the key together). */
function pemBlocks(b: Buffer | undefined, type: RegExp): Buffer | undefined {
  if (!b) return undefined;
  const text = b.toString('utf8');
  if (!text.includes('-----BEGIN')) return b;
  const blocks = [...text.matchAll(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----\n?/g)].filter((m) => type.test(m[1]!)).map((m) => m[0]);
  return blocks.length ? Buffer.from(blocks.join('')) : undefined;
}

export function loadKubeconfig(path: string): ApiTarget {
  let kc: Dict;
  try {
    kc = parseYaml(readFileSync(path, 'utf8')) as Dict;
  } catch (e) {
    throw new Fatal(`invalid kubeconfig: failed to load ${path}: ${(e as Error).message}`);
  }
  const base = dirname(path);
  const ctxName = kc['current-context'];
  const ctx = namedEntry(kc.contexts, ctxName, 'context', path);
  const cluster = namedEntry(kc.clusters, ctx.cluster, 'cluster', path);
  const user = namedEntry(kc.users, ctx.user, 'user', path);
  if (typeof cluster.server !== 'string') throw new Fatal(`invalid kubeconfig ${path}: no server found for cluster "${String(ctx.cluster)}"`);
  const tls = {
    ca: fileOrData(cluster['certificate-authority-data'], cluster['certificate-authority'], base),
    cert: pemBlocks(fileOrData(user['client-certificate-data'], user['client-certificate'], base), /CERTIFICATE/),
    key: pemBlocks(fileOrData(user['client-key-data'], user['client-key'], base), /PRIVATE KEY/),
    rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
  };
  return { url: new URL(cluster.server), tls, creds: new Credentials(user, base, cluster) };
}

/** Bearer token from the kubeconfig user: static token, tokenFile, or an exec plugin (cached until it expires). */
export class Credentials {
  private cached?: { token: string; exp: number };
  execRuns = 0;

  constructor(
    private readonly user: Dict,
    private readonly base: string,
    private readonly cluster: Dict,
  ) {}

  get refreshable(): boolean {
    return !!this.user.exec || !!this.user.tokenFile;
  }

  async token(forceRefresh = false): Promise<string | undefined> {
    if (typeof this.user.token === 'string') return this.user.token;
    if (typeof this.user.tokenFile === 'string') return readFileSync(resolve(this.base, this.user.tokenFile), 'utf8').trim();
    if (!this.user.exec) return undefined;
    if (!forceRefresh && this.cached && this.cached.exp > Date.now()) return this.cached.token;
    this.cached = await this.runExec(this.user.exec as Dict);
    return this.cached.token;
  }

  private runExec(exec: Dict): Promise<{ token: string; exp: number }> {
    const apiVersion = String(exec.apiVersion ?? '');
    if (!/^client\.authentication\.k8s\.io\/(v1|v1beta1)$/.test(apiVersion)) {
      return Promise.reject(new Error(`exec plugin: invalid apiVersion "${apiVersion}"`));
    }
    let command = String(exec.command ?? '');
    // client-go resolves a relative command containing a path separator against the kubeconfig's directory.
    if (command.includes('/') && !command.startsWith('/')) command = resolve(this.base, command);
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const e of (exec.env ?? []) as { name: string; value: string }[]) env[e.name] = e.value;
    env.KUBERNETES_EXEC_INFO = JSON.stringify({
      kind: 'ExecCredential',
      apiVersion,
      spec: {
        interactive: false,
        ...(exec.provideClusterInfo
          ? { cluster: { server: this.cluster.server, 'certificate-authority-data': this.cluster['certificate-authority-data'] } }
          : {}),
      },
    });
    this.execRuns++;
    const started = performance.now();
    return new Promise((res, rej) => {
      const child = spawn(command, ((exec.args ?? []) as unknown[]).map(String), { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        err += d;
      });
      child.on('error', (e) => rej(new Error(`exec plugin: ${command}: ${e.message}${exec.installHint ? `\n${String(exec.installHint)}` : ''}`)));
      child.on('close', (code) => {
        if (code !== 0) return rej(new Error(`exec plugin: ${command} exited with ${code}: ${err.trim()}`));
        try {
          const cred = JSON.parse(out) as { apiVersion?: string; kind?: string; status?: { token?: string; expirationTimestamp?: string } };
          if (cred.kind !== 'ExecCredential') throw new Error(`kind "${cred.kind}" is not ExecCredential`);
          if (cred.apiVersion !== apiVersion) throw new Error(`plugin returned version ${cred.apiVersion}, expected ${apiVersion}`);
          if (!cred.status?.token) throw new Error('exec plugin did not return a status.token');
          const exp = cred.status.expirationTimestamp ? Date.parse(cred.status.expirationTimestamp) : Infinity;
          // The time it took is the plugin's, not the kubelet's: bench/box-node.mjs reads it from this line.
          const ms = Math.round(performance.now() - started);
          log('I', `exec credential plugin returned a token in ${ms} ms${Number.isFinite(exp) ? `, expiring ${cred.status.expirationTimestamp}` : ''}`);
          res({ token: cred.status.token, exp });
        } catch (e) {
          rej(new Error(`exec plugin: decoding stdout: ${(e as Error).message}`));
        }
      });
    });
  }
}

/**
 * Whether --kubeconfig can be used as it is (the kubelet's bootstrap check, pkg/kubelet/certificate/bootstrap
 * isClientConfigStillValid): it exists, parses, and a client certificate in it has not expired.
 */
export function kubeconfigUsable(path: string): boolean {
  try {
    const t = loadKubeconfig(path);
    if (t.tls.cert) {
      const cert = new X509Certificate(t.tls.cert);
      if (Date.parse(cert.validTo) <= Date.now()) return false;
    }
    return true;
  } catch {
    return false;
  }
}
