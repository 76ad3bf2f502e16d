// A throwaway cluster CA and node client certificates made with the machine's openssl, for tests of what flexnode
// reads of the kubelet's certificate (subject, issuer, expiry).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  caPem: string;
  /** A client certificate and its key (one PEM file, as the kubelet stores them) for `subject`, valid `days`. */
  pair(subject: string, days?: number): string;
  dispose(): void;
}

export function testPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'kube-pki-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=kubernetes',
  );
  let n = 0;
  return {
    caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    pair(subject, days = 1) {
      const id = `c${++n}`;
      ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${id}.key`, '-out', `${id}.csr`, '-subj', subject);
      writeFileSync(join(dir, `${id}.ext`), 'extendedKeyUsage=clientAuth\n');
      ssl(
        'x509',
        '-req',
        '-in',
        `${id}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${id}.crt`,
        '-days',
        String(days),
        '-extfile',
        `${id}.ext`,
      );
      return readFileSync(join(dir, `${id}.crt`), 'utf8') + readFileSync(join(dir, `${id}.key`), 'utf8');
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
