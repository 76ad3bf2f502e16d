// Fakes of the API server as the kubelet step meets it: the node's own reads and deletes of its Node, the operator's
// client, and the kubeconfig the credentials step writes.
import { X509Certificate } from 'node:crypto';
import type { MemoryHost } from '@flexnode/sdk/testing';
import { fakeReader } from '../fixtures.test.helpers.js';
import type { KubeApi } from '../maintenance/api.js';
import { MemoryKubeApi } from '../maintenance/memory-api.test.helpers.js';
import type { ApiAnswer, KubeClient, NodeApiOptions } from './api.js';
import { createKubeletStep } from '../steps.js';

export const machine = { cpus: 4, memoryBytes: 8 * 2 ** 30 };

/** The kubelet step with a fixed machine size and route to the API server (no network in unit tests). */
export const kubeletStep = (options: Parameters<typeof createKubeletStep>[0] = {}) =>
  createKubeletStep({
    readCluster: fakeReader(),
    machine: async () => machine,
    routeSource: async () => '192.0.2.10',
    sleep: async () => undefined,
    pollMs: 1,
    ...options,
  });

/**
 * A fake API server: Node Ready after `readyAfter` GETs; DELETE answers `deleteStatus`; cordon, the drain's calls
 * and Leases as MemoryKubeApi (`memory`).
 */
export function fakeApi(opts: { readyAfter?: number; deleteStatus?: number; unreachable?: boolean } = {}) {
  const seen: { method: string; name: string; token: string; server: string }[] = [];
  const memory = new MemoryKubeApi();
  memory.unreachable = !!opts.unreachable;
  let gets = 0;
  const factory = (o: NodeApiOptions): KubeApi => {
    const call = async (method: string, name: string): Promise<ApiAnswer> => {
      if (opts.unreachable) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      const credential = await o.credential();
      seen.push({
        method,
        name,
        token: 'token' in credential ? credential.token : `cert ${new X509Certificate(credential.certPem).subject.replace(/\n/g, ',')}`,
        server: o.server,
      });
      if (method === 'DELETE') return { status: opts.deleteStatus ?? 200, body: { message: opts.deleteStatus === 403 ? 'nodes "edge-1" is forbidden' : '' } };
      gets++;
      const ready = gets > (opts.readyAfter ?? 0);
      if (!memory.nodes.has(name)) memory.addNode(name);
      const node = (await memory.get(name)).body;
      return {
        status: 200,
        body: {
          ...node,
          metadata: { ...(node.metadata as object), name },
          status: {
            conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'KubeletReady' : 'KubeletNotReady', message: 'stand-in' }],
          },
        },
      };
    };
    const unused = async (): Promise<ApiAnswer> => {
      throw new Error('the kubelet step lists and creates no Node');
    };
    return {
      get: (n) => call('GET', n),
      delete: (n) => call('DELETE', n),
      list: unused,
      create: unused,
      patch: (n, p) => memory.patch(n, p),
      listNodePods: (n) => memory.listNodePods(n),
      evictPod: (ns, n) => memory.evictPod(ns, n),
      getLease: (ns, n) => memory.getLease(ns, n),
      createLease: (ns, l) => memory.createLease(ns, l),
      updateLease: (ns, n, l) => memory.updateLease(ns, n, l),
      version: () => memory.version(),
    };
  };
  return { factory, seen, memory };
}

/** The operator's API client: every call answered with `status` (403: guard's denial). */
export function fakeOperator(status: number) {
  const calls: { method: string; path: string; token: string; server: string }[] = [];
  const factory = (o: NodeApiOptions): KubeClient => ({
    call: async (method, path) => {
      const c = await o.credential();
      calls.push({ method, path, token: 'token' in c ? c.token : '', server: o.server });
      return {
        status,
        body:
          status === 403
            ? {
                message:
                  'nodes "edge-1" is forbidden: User "oid" cannot delete resource "nodes" in API group "" at the cluster scope: Access denied for action: Microsoft.ContainerService/managedClusters/nodes/delete',
              }
            : {},
      };
    },
  });
  return { factory, calls };
}

/** The credentials step's kubeconfig, as the kubelet step finds it. */
export function seedKubeconfig(host: MemoryHost) {
  host.seedFile(
    '/var/lib/kubelet/kubeconfig',
    `apiVersion: v1\nclusters:\n- name: c\n  cluster:\n    server: https://api.test:443\n    certificate-authority-data: ${Buffer.from('-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n').toString('base64')}\n`,
    0o600,
  );
}
