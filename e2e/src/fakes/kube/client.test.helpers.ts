// A plain HTTPS client for the fake Kubernetes API tests: a bearer token or a client certificate, JSON in and out.
import https from 'node:https';
import type { FakeKubeApi } from '../fake-kube-api.js';
import type { IssuedCert } from './cluster-ca.js';

export type Caller = { token: string } | IssuedCert | null;

export interface Answer {
  status: number;
  json: Record<string, any>;
  text: string;
}

export function kubeClient(kube: FakeKubeApi) {
  return function call(method: string, path: string, as: Caller, body?: unknown, type = 'application/json'): Promise<Answer> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        `${kube.url}${path}`,
        {
          method,
          ca: kube.caPem,
          agent: false,
          ...(as && 'certPem' in as ? { cert: as.certPem, key: as.keyPem } : {}),
          headers: {
            ...(as && 'token' in as ? { authorization: `Bearer ${as.token}` } : {}),
            ...(text ? { 'content-type': type, 'content-length': Buffer.byteLength(text) } : {}),
          },
        },
        (res) => {
          let data = '';
          res.on('data', (d) => {
            data += d;
          });
          res.on('end', () => {
            let json: Record<string, any> = {};
            try {
              json = data ? JSON.parse(data) : {};
            } catch {
              /* text */
            }
            resolve({ status: res.statusCode ?? 0, json, text: data });
          });
        },
      );
      req.on('error', reject);
      req.end(text);
    });
  };
}

/** Wait until `cond` holds (controllers run right after each change, signing takes an openssl run). */
export async function until(cond: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
