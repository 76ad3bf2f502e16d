// Kubelet TLS bootstrapping and client certificate rotation, as pkg/kubelet/certificate/bootstrap and
// client-go/util/certificate do: a new ECDSA P-256 key, a CSR for CN=system:node:<name>, O=system:nodes with
// signerName kubernetes.io/kube-apiserver-client-kubelet and usages [digital signature, client auth], sent with the
// bootstrap credential; wait until it is approved and signed; store cert+key in <cert-dir>/kubelet-client-<time>.pem
// (0600) with kubelet-client-current.pem pointing at it, and write --kubeconfig (0600) whose user is that file.
// Rotation sends the same CSR with the current certificate, at 70-90% of its lifetime (here: 80%).
import { X509Certificate } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiClient } from './api.js';
import { die, Fatal, log, sleep, type Dict } from './common.js';
import type { NodeSettings } from './flags.js';
import { certificateRequest, newEcKey } from './x509.js';

const SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

/** Ask for a client certificate with the identity `api` carries; resolves to cert and key PEM. */
export async function requestClientCertificate(api: ApiClient, nodeName: string): Promise<{ certPem: string; keyPem: string }> {
  const { privateKey, keyPem } = newEcKey();
  const csr = certificateRequest(privateKey, `system:node:${nodeName}`, ['system:nodes']);
  const created = await api.call('POST', CSR_PATH, {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { generateName: 'csr-' },
    spec: { request: Buffer.from(csr).toString('base64'), signerName: SIGNER, usages: ['digital signature', 'client auth'] },
  });
  if (created.status !== 201) throw new Fatal(`cannot create certificate signing request: HTTP ${created.status}: ${String(created.json.message ?? '')}`);
  const name = String((created.json.metadata as Dict).name);
  log('I', `Waiting for client certificate to be issued (certificatesigningrequest "${name}")`);
  const deadline = Date.now() + (Number(process.env.KUBELET_STANDIN_CSR_TIMEOUT_MS) || 15 * 60_000);
  while (Date.now() < deadline) {
    const got = await api.call('GET', `${CSR_PATH}/${name}`);
    const status = (got.json.status ?? {}) as { certificate?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
    const bad = (status.conditions ?? []).find((c) => (c.type === 'Denied' || c.type === 'Failed') && c.status === 'True');
    if (bad) throw new Fatal(`certificate signing request ${name} is ${bad.type.toLowerCase()}: ${bad.reason ?? ''} ${bad.message ?? ''}`.trim());
    if (status.certificate) {
      log('I', `Client certificate of certificatesigningrequest "${name}" issued`);
      return { certPem: Buffer.from(status.certificate, 'base64').toString('utf8'), keyPem };
    }
    await sleep(500);
  }
  throw new Fatal(`timed out waiting for certificatesigningrequest "${name}" to be approved and signed`);
}

/** Store the pair as the kubelet does and point kubelet-client-current.pem at it; returns the current path. */
export function storeClientCertificate(certDir: string, pair: { certPem: string; keyPem: string }): string {
  mkdirSync(certDir, { recursive: true, mode: 0o755 });
  const stamp = new Date()
    .toISOString()
    .replace(/\.\d+Z$/, '')
    .replace(/[T:]/g, '-');
  const file = join(certDir, `kubelet-client-${stamp}.pem`);
  writeFileSync(file, pair.certPem + pair.keyPem, { mode: 0o600 });
  const current = join(certDir, 'kubelet-client-current.pem');
  const tmp = `${current}.tmp`;
  rmSync(tmp, { force: true });
  symlinkSync(file, tmp);
  renameSync(tmp, current);
  return current;
}

/** The kubeconfig the kubelet writes after bootstrap: server and CA of the bootstrap kubeconfig, the pair file as user. */
export function writeKubeconfig(path: string, server: string, caData: string | undefined, pairPath: string): void {
  const kc = {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    'current-context': 'default-context',
    clusters: [{ name: 'default-cluster', cluster: { server, ...(caData ? { 'certificate-authority-data': caData } : {}) } }],
    contexts: [{ name: 'default-context', context: { cluster: 'default-cluster', namespace: 'default', user: 'default-auth' } }],
    users: [{ name: 'default-auth', user: { 'client-certificate': pairPath, 'client-key': pairPath } }],
  };
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(kc, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** Renew the client certificate before it expires (--rotate-certificates), then reload the client. */
export function scheduleRotation(api: ApiClient, s: NodeSettings, stopped: () => boolean): void {
  const cert = api.target.tls.cert;
  if (!cert || !s.kubeconfig) return;
  const c = new X509Certificate(cert);
  const from = Date.parse(c.validFrom);
  const to = Date.parse(c.validTo);
  const at = from + (to - from) * 0.8;
  const t = setTimeout(
    async () => {
      if (stopped()) return;
      try {
        log('I', 'Rotating the kubelet client certificate');
        const pair = await requestClientCertificate(api, s.name);
        storeClientCertificate(s.certDir, pair);
        api.reload();
        scheduleRotation(api, s, stopped);
      } catch (e) {
        if (e instanceof Fatal) die(e.message);
        log('E', `certificate rotation failed, will retry: ${(e as Error).message}`);
        setTimeout(() => scheduleRotation(api, s, stopped), 10_000).unref();
      }
    },
    Math.max(0, Math.min(at - Date.now(), 2 ** 31 - 1)),
  );
  t.unref();
}
