// What a request asks for, parsed as the API server's RequestInfoFactory does
// (staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go): prefix, group, version, namespace,
// resource, name, subresource and the verb (get/list/watch/create/update/patch/delete/deletecollection). A list or
// watch whose field selector requires metadata.name=<x> is a request for that name (the Node authorizer relies on it).
import type { RequestAttributes } from './types.js';

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
const METHOD_VERBS: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch', GET: 'get', HEAD: 'get', DELETE: 'delete' };

export type ParsedRequest = Omit<RequestAttributes, 'user'>;

export function parseRequest(method: string, path: string, query: Record<string, string>): ParsedRequest {
  const base: ParsedRequest = {
    verb: method.toLowerCase(),
    isResourceRequest: false,
    path,
    apiGroup: '',
    apiVersion: '',
    resource: '',
    subresource: '',
    namespace: '',
    name: '',
  };
  const parts = path
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .map(decodeURIComponent);
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    base.apiVersion = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    base.apiGroup = parts[1]!;
    base.apiVersion = parts[2]!;
    rest = parts.slice(3);
  } else {
    return base; // a non-resource request: /version, /healthz, discovery documents
  }
  base.isResourceRequest = true;
  base.verb = METHOD_VERBS[method] ?? method.toLowerCase();
  if (rest[0] === 'namespaces' && rest.length > 1) {
    base.namespace = rest[1]!;
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2]!)) rest = rest.slice(2);
  }
  base.resource = rest[0] ?? '';
  base.name = rest[1] ?? '';
  base.subresource = rest[2] ?? '';
  if (base.verb === 'get' && !base.name) base.verb = query.watch === 'true' || query.watch === '1' ? 'watch' : 'list';
  if (base.verb === 'delete' && !base.name) base.verb = 'deletecollection';
  if (query.fieldSelector !== undefined) base.fieldSelector = query.fieldSelector;
  if (query.labelSelector !== undefined) base.labelSelector = query.labelSelector;
  if ((base.verb === 'list' || base.verb === 'watch') && !base.name) {
    const name = exactField(query.fieldSelector, 'metadata.name');
    if (name !== undefined) base.name = name;
  }
  return base;
}

/** The value a field selector requires for `field` (`field=x` or `field==x`), if any. */
export function exactField(selector: string | undefined, field: string): string | undefined {
  for (const term of (selector ?? '').split(',')) {
    const m = /^\s*([^!=\s]+)\s*==?\s*(.*?)\s*$/.exec(term);
    if (m && m[1] === field) return m[2];
  }
  return undefined;
}
