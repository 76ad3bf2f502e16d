import { httpsKubeClient, type ApiAnswer, type KubeClient, type NodeApiOptions, type RequestBody } from '../kubelet/api.js';
import type { NodeRange } from './pod-range.js';

/** The Node calls flexnode makes (the kubelet, network and node steps), as one identity. */
export interface NodesApi {
  list(): Promise<ApiAnswer>;
  get(name: string): Promise<ApiAnswer>;
  create(node: Record<string, unknown>): Promise<ApiAnswer>;
  /** A JSON merge patch (RFC 7386) of the Node. */
  patch(name: string, patch: Record<string, unknown>): Promise<ApiAnswer>;
  /** Delete, only if the Node is still the one with `uid` (a precondition: 409 otherwise). */
  delete(name: string, uid?: string): Promise<ApiAnswer>;
}

/** DeleteOptions that delete a Node only while it is the one with `uid` (409 Conflict otherwise). */
export const uidPrecondition = (uid: string): RequestBody => ({ json: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid } } });

/** The Nodes API over a client of one identity (the node's, or the operator's where the node may not). */
export function nodesApi(client: KubeClient): NodesApi {
  const one = (name: string) => `/api/v1/nodes/${encodeURIComponent(name)}`;
  return {
    list: () => client.call('GET', '/api/v1/nodes'),
    get: (name) => client.call('GET', one(name)),
    create: (node) => client.call('POST', '/api/v1/nodes', { json: node }),
    patch: (name, patch) => client.call('PATCH', one(name), { json: patch, contentType: 'application/merge-patch+json' }),
    delete: (name, uid) => client.call('DELETE', one(name), uid ? uidPrecondition(uid) : undefined),
  };
}

/** NodesApi over node:https, trusting exactly the cluster CA. */
export const httpsNodesApi = (options: NodeApiOptions): NodesApi => nodesApi(httpsKubeClient(options));

/** A Node object's pod ranges: `spec.podCIDRs`, else `spec.podCIDR` (older servers). */
export function podCIDRsOf(node: Record<string, unknown> | undefined): string[] {
  const spec = (node?.spec ?? {}) as { podCIDR?: string; podCIDRs?: string[] };
  if (Array.isArray(spec.podCIDRs) && spec.podCIDRs.length > 0) return spec.podCIDRs.filter((c) => typeof c === 'string' && c !== '');
  return spec.podCIDR ? [spec.podCIDR] : [];
}

/** The pod ranges of the Nodes of a list answer, this node's own (by name) apart. */
export function rangesOf(list: Record<string, unknown>, self: string): { others: NodeRange[]; self?: NodeRange & { uid?: string } } {
  const items = (Array.isArray(list.items) ? list.items : []) as { metadata?: { name?: string; uid?: string } }[];
  let own: (NodeRange & { uid?: string }) | undefined;
  const others: NodeRange[] = [];
  for (const item of items) {
    const name = item.metadata?.name ?? '';
    const range = { name, podCIDRs: podCIDRsOf(item as Record<string, unknown>) };
    if (name === self) own = { ...range, uid: item.metadata?.uid };
    else others.push(range);
  }
  return { others, ...(own ? { self: own } : {}) };
}

/** The message of a failed API answer (a Status), for errors. */
export const statusMessage = (answer: ApiAnswer) => `HTTP ${answer.status}${answer.body.message ? `: ${String(answer.body.message)}` : ''}`;
