import type { Host } from '@flexnode/sdk';

// node:crypto is imported on first use: the plugin module loads on every CLI start.
const x509 = async () => (await import('node:crypto')).X509Certificate;

/** The file the kubelet keeps its current client certificate and key in (k8s.io/client-go/util/certificate). */
export const CURRENT_CLIENT_PAIR = 'kubelet-client-current.pem';
/** The pairs it writes (`kubelet-client-<time>.pem`), the current one included. */
export const CLIENT_PAIR = /^kubelet-client-(\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d|current)\.pem$/;

/** A node client certificate the kubelet obtained by TLS bootstrapping. */
export interface NodeCertificate {
  certPem: string;
  keyPem: string;
  /** The user it authenticates as (CN). */
  user: string;
  groups: string[];
  notAfter: Date;
}

const block = (pem: string, label: RegExp) => new RegExp(`-----BEGIN (${label.source})-----[\\s\\S]+?-----END \\1-----\\n?`).exec(pem)?.[0];

/** The kubelet's current client certificate and key under `certDir`, or undefined when there is none (yet). */
export async function readNodeCertificate(host: Host, certDir: string): Promise<NodeCertificate | undefined> {
  const text = await host.files.readText(`${certDir}/${CURRENT_CLIENT_PAIR}`);
  if (!text) return undefined;
  const certPem = block(text, /CERTIFICATE/);
  const keyPem = block(text, /(?:EC |RSA )?PRIVATE KEY/);
  if (!certPem || !keyPem) return undefined;
  try {
    const cert = new (await x509())(certPem);
    const fields = cert.subject.split('\n');
    const user = fields.find((f) => f.startsWith('CN='))?.slice(3) ?? '';
    const groups = fields.filter((f) => f.startsWith('O=')).map((f) => f.slice(2));
    return { certPem, keyPem, user, groups, notAfter: new Date(cert.validTo) };
  } catch {
    return undefined;
  }
}

/** Why the certificate is not a usable credential of node `name` issued by the cluster CA (undefined when it is). */
export async function nodeCertificateProblem(cert: NodeCertificate, name: string, caPem: string, now = new Date()): Promise<string | undefined> {
  const X509Certificate = await x509();
  if (cert.user !== `system:node:${name}` || !cert.groups.includes('system:nodes')) {
    return `it is for "${cert.user}" (${cert.groups.join(', ') || 'no group'}), not system:node:${name} in system:nodes`;
  }
  try {
    if (!new X509Certificate(cert.certPem).verify(new X509Certificate(caPem).publicKey)) return 'it is not signed by the cluster CA';
  } catch {
    return 'it or the cluster CA cannot be read';
  }
  if (cert.notAfter.getTime() <= now.getTime()) return `it expired on ${cert.notAfter.toISOString()}`;
  return undefined;
}
