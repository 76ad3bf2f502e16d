// An in-memory API server for the operator's calls of kube.node-bootstrap (ClusterRoleBindings and Secrets):
// create (409 AlreadyExists), get (404), list, update with a resourceVersion precondition (409 Conflict), delete with
// one. Enough to test the step's logic; the e2e tests run it against the fake Kubernetes API that authorizes.
import type { ApiAnswer, KubeClient, NodeApiOptions } from '../kubelet/api.js';

type Obj = { metadata: { name: string; resourceVersion?: string; [k: string]: unknown }; [k: string]: unknown };

export class FakeCluster {
  readonly objects = new Map<string, Obj>();
  readonly calls: string[] = [];
  /** Answer this status to requests whose "METHOD path" matches. */
  deny?: { match: RegExp; status: number; message: string };
  private rv = 1;

  readonly factory = (o: NodeApiOptions): KubeClient => ({
    call: async (method, path, body) => {
      await o.credential();
      this.calls.push(`${method} ${path}`);
      return this.handle(method, path, body?.json as Obj | undefined);
    },
  });

  seed(collection: string, obj: Obj): void {
    this.objects.set(`${collection}/${obj.metadata.name}`, { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.rv++) } });
  }

  names(collection: string): string[] {
    return [...this.objects.keys()].filter((k) => k.startsWith(`${collection}/`)).map((k) => k.slice(collection.length + 1));
  }

  get(collection: string, name: string): Obj | undefined {
    return this.objects.get(`${collection}/${name}`);
  }

  private handle(method: string, path: string, body: Obj | undefined): ApiAnswer {
    if (this.deny?.match.test(`${method} ${path}`)) return { status: this.deny.status, body: { message: this.deny.message } };
    const collection =
      /^(\/apis\/rbac\.authorization\.k8s\.io\/v1\/clusterrolebindings|\/api\/v1\/namespaces\/[^/]+\/secrets|\/api\/v1\/nodes)(?:\/([^/]+))?$/.exec(path);
    if (!collection) return { status: 404, body: { message: `no route ${path}` } };
    const [, coll, name] = collection as unknown as [string, string, string | undefined];
    const key = `${coll}/${name ?? body?.metadata.name}`;
    const existing = this.objects.get(key);
    switch (method) {
      case 'GET':
        if (!name) return { status: 200, body: { items: this.names(coll).map((n) => this.objects.get(`${coll}/${n}`)) } };
        return existing ? { status: 200, body: structuredClone(existing) } : { status: 404, body: { message: 'not found' } };
      case 'POST':
        if (existing) return { status: 409, body: { reason: 'AlreadyExists' } };
        this.objects.set(key, { ...body!, metadata: { ...body!.metadata, resourceVersion: String(this.rv++) } });
        return { status: 201, body: structuredClone(this.objects.get(key)!) };
      case 'PUT':
        if (!existing) return { status: 404, body: {} };
        if (body!.metadata.resourceVersion !== existing.metadata.resourceVersion) return { status: 409, body: { reason: 'Conflict' } };
        this.objects.set(key, { ...body!, metadata: { ...body!.metadata, resourceVersion: String(this.rv++) } });
        return { status: 200, body: structuredClone(this.objects.get(key)!) };
      case 'DELETE': {
        if (!existing) return { status: 404, body: {} };
        const want = (body as { preconditions?: { resourceVersion?: string } } | undefined)?.preconditions?.resourceVersion;
        if (want && want !== existing.metadata.resourceVersion) return { status: 409, body: { reason: 'Conflict' } };
        this.objects.delete(key);
        return { status: 200, body: {} };
      }
      default:
        return { status: 405, body: {} };
    }
  }
}
