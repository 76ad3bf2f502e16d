// The FAKE cluster's certificate authority, as AKS's control plane has one: it signs the API server's serving
// certificate, the client certificates it trusts (user = CN, groups = O; kube-apiserver --client-ca-file) and, through
// the csrsigning controller, the kubelets' client certificates. EC P-256 keys (fast to make; what the kubelet uses
// for its own key). Built with the openssl CLI (Node cannot sign certificates); argument arrays, no shell.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const dirs: string[] = [];
process.once('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export interface IssuedCert {
  certPem: string;
  keyPem: string;
}

export class ClusterCa {
  private constructor(
    private readonly dir: string,
    readonly certPem: string,
  ) {}

  /** A new self-signed CA (`CN=<name>`, CA:TRUE, keyCertSign). */
  static async create(name = 'fake-kube-ca'): Promise<ClusterCa> {
    const dir = mkdtempSync(join(tmpdir(), 'fake-kube-ca-'));
    dirs.push(dir);
    await run('openssl', [
      'req',
      '-x509',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '30',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      '-keyout',
      join(dir, 'ca.key'),
      '-out',
      join(dir, 'ca.crt'),
    ]);
    return new ClusterCa(dir, readFileSync(join(dir, 'ca.crt'), 'utf8'));
  }

  get certPath(): string {
    return join(this.dir, 'ca.crt');
  }

  /** The API server's serving certificate for the given IPs and DNS names. */
  serving(sans: string[]): Promise<IssuedCert> {
    const san = [...new Set(sans)].map((s) => (isIP(s) ? `IP:${s}` : `DNS:${s}`)).join(',');
    return this.issue(
      '/CN=kube-apiserver',
      ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth', `subjectAltName=${san}`],
      2,
    );
  }

  /** A client certificate: user `cn`, groups `orgs` (how the API server reads x509 client certificates). */
  client(cn: string, orgs: string[] = [], days = 2): Promise<IssuedCert> {
    return this.issue(
      subject(cn, orgs),
      ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth'],
      days,
    );
  }

  /**
   * Sign a PKCS#10 request (PEM) for `seconds`, keeping its subject, with the key usages asked for: what the
   * csrsigning controller does (backdated 5 minutes for clock skew, as its signer does). `openssl ca` because
   * `x509 -req` in OpenSSL 3.0 cannot set exact validity dates.
   */
  async signCsr(csrPem: string, seconds: number, usages: string[]): Promise<string> {
    const work = mkdtempSync(join(this.dir, 'sign-'));
    try {
      writeFileSync(join(work, 'req.csr'), csrPem);
      writeFileSync(join(work, 'index.txt'), '');
      writeFileSync(join(work, 'serial'), `${randomBytes(16).toString('hex')}\n`);
      const ku = usages
        .filter((u) => u === 'digital signature' || u === 'key encipherment')
        .map((u) => (u === 'digital signature' ? 'digitalSignature' : 'keyEncipherment'));
      const eku = [...(usages.includes('client auth') ? ['clientAuth'] : []), ...(usages.includes('server auth') ? ['serverAuth'] : [])];
      writeFileSync(
        join(work, 'ca.cnf'),
        [
          '[ca]',
          'default_ca = fake',
          '[fake]',
          `dir = ${work}`,
          `database = ${join(work, 'index.txt')}`,
          `new_certs_dir = ${work}`,
          `certificate = ${this.certPath}`,
          `private_key = ${join(this.dir, 'ca.key')}`,
          `serial = ${join(work, 'serial')}`,
          'default_md = sha256',
          'policy = any',
          'unique_subject = no',
          'copy_extensions = none',
          'x509_extensions = ext',
          '[any]',
          'organizationName = optional',
          'commonName = supplied',
          '[ext]',
          'basicConstraints = CA:FALSE',
          ...(ku.length ? [`keyUsage = critical,${ku.join(',')}`] : []),
          ...(eku.length ? [`extendedKeyUsage = ${eku.join(',')}`] : []),
          'authorityKeyIdentifier = keyid',
          '',
        ].join('\n'),
      );
      const stamp = (d: Date) =>
        d
          .toISOString()
          .replace(/[-:T]/g, '')
          .replace(/\.\d+Z$/, 'Z');
      await run('openssl', [
        'ca',
        '-batch',
        '-config',
        join(work, 'ca.cnf'),
        '-preserveDN',
        '-notext',
        '-startdate',
        stamp(new Date(Date.now() - 5 * 60_000)),
        '-enddate',
        stamp(new Date(Date.now() + seconds * 1000)),
        '-in',
        join(work, 'req.csr'),
        '-out',
        join(work, 'out.crt'),
      ]);
      return readFileSync(join(work, 'out.crt'), 'utf8');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  private async issue(subj: string, ext: string[], days: number): Promise<IssuedCert> {
    const work = mkdtempSync(join(this.dir, 'issue-'));
    try {
      await run('openssl', [
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-subj',
        subj,
        '-keyout',
        join(work, 'k.pem'),
        '-out',
        join(work, 'r.csr'),
      ]);
      writeFileSync(join(work, 'ext.cnf'), ext.join('\n') + '\n');
      await run('openssl', [
        'x509',
        '-req',
        '-in',
        join(work, 'r.csr'),
        '-CA',
        this.certPath,
        '-CAkey',
        join(this.dir, 'ca.key'),
        '-set_serial',
        `0x${randomBytes(16).toString('hex')}`,
        '-days',
        String(days),
        '-extfile',
        join(work, 'ext.cnf'),
        '-out',
        join(work, 'c.pem'),
      ]);
      return { certPem: readFileSync(join(work, 'c.pem'), 'utf8'), keyPem: readFileSync(join(work, 'k.pem'), 'utf8') };
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
}

/** An openssl -subj for CN and O values, escaping what the -subj syntax treats specially. */
function subject(cn: string, orgs: string[]): string {
  const esc = (v: string) => v.replace(/[\\/+=]/g, (c) => `\\${c}`);
  return `${orgs.map((o) => `/O=${esc(o)}`).join('')}/CN=${esc(cn)}`;
}
