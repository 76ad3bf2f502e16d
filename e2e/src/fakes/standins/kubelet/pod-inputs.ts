// What a pod's containers need from the API before they start, fetched as the kubelet fetches it with its own
// identity (which the Node authorizer limits to objects of pods bound to it): secrets and configmaps of volumes,
// env and envFrom (the kubelet's Watch change-detection strategy lists them one by one with
// fieldSelector=metadata.name=<name>), service-account tokens of projected volumes (TokenRequest bound to the pod,
// pkg/kubelet/token), and the downward API. Volumes are written under <root-dir>/pods/<uid>/volumes/<plugin>/<name>
// like the kubelet's, and bind-mounted into the containers.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ApiClient } from './api.js';
import type { Dict } from './common.js';

export class MissingInput extends Error {
  constructor(
    readonly reason: 'CreateContainerConfigError' | 'ContainerCreating',
    message: string,
    readonly event?: { reason: string; message: string },
  ) {
    super(message);
  }
}

type Any = Record<string, any>;

export interface PodInputs {
  /** Per container name: KEY=VALUE list. */
  env: Map<string, string[]>;
  /** Per container name: bind mounts. */
  mounts: Map<string, { src: string; dst: string; ro: boolean }[]>;
}

export class InputResolver {
  constructor(
    private readonly api: ApiClient,
    private readonly rootDir: string,
    private readonly nodeName: string,
    private readonly hostIP: string,
  ) {}

  podDir(uid: string): string {
    return join(this.rootDir, 'pods', uid);
  }

  removePodDir(uid: string): void {
    rmSync(this.podDir(uid), { recursive: true, force: true });
  }

  /** The named secret or configmap's data (decoded), or undefined when it does not exist. */
  private async object(kind: 'secrets' | 'configmaps', ns: string, name: string): Promise<Record<string, Buffer> | undefined> {
    const r = await this.api.call(
      'GET',
      `/api/v1/namespaces/${ns}/${kind}?fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}&limit=500&resourceVersion=0`,
    );
    const item = ((r.json.items ?? []) as Any[])[0];
    if (r.status !== 200 || !item) return undefined;
    const out: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries((item.data ?? {}) as Record<string, string>)) out[k] = kind === 'secrets' ? Buffer.from(v, 'base64') : Buffer.from(v);
    for (const [k, v] of Object.entries((item.binaryData ?? {}) as Record<string, string>)) out[k] = Buffer.from(v, 'base64');
    return out;
  }

  private async token(pod: Any, audience: string | undefined, expirationSeconds: number): Promise<string> {
    const sa = pod.spec.serviceAccountName ?? 'default';
    const r = await this.api.call('POST', `/api/v1/namespaces/${pod.metadata.namespace}/serviceaccounts/${sa}/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        ...(audience ? { audiences: [audience] } : {}),
        expirationSeconds,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
      },
    });
    if (r.status !== 201) {
      throw new MissingInput('ContainerCreating', `failed to fetch token: ${String(r.json.message ?? `HTTP ${r.status}`)}`, {
        reason: 'FailedMount',
        message: `MountVolume.SetUp failed for volume "kube-api-access" : failed to fetch token: ${String(r.json.message ?? '')}`,
      });
    }
    return String(((r.json.status ?? {}) as Dict).token);
  }

  private fieldValue(pod: Any, path: string): string {
    switch (path) {
      case 'metadata.name':
        return pod.metadata.name;
      case 'metadata.namespace':
        return pod.metadata.namespace;
      case 'metadata.uid':
        return pod.metadata.uid;
      case 'spec.nodeName':
        return this.nodeName;
      case 'spec.serviceAccountName':
        return pod.spec.serviceAccountName ?? '';
      case 'status.hostIP':
      case 'status.podIP':
        return this.hostIP;
      default: {
        const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
        return m ? String(pod.metadata[m[1]!]?.[m[2]!] ?? '') : '';
      }
    }
  }

  async resolve(pod: Any): Promise<PodInputs> {
    const ns = pod.metadata.namespace;
    const base = join(this.podDir(pod.metadata.uid), 'volumes');
    const volumeDirs = new Map<string, string>();
    const write = (dir: string, files: Record<string, Buffer>) => {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      for (const [f, data] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, f)), { recursive: true });
        writeFileSync(join(dir, f), data, { mode: 0o644 });
      }
    };
    const pick = (data: Record<string, Buffer>, items: { key: string; path: string }[] | undefined) =>
      items?.length ? Object.fromEntries(items.filter((i) => data[i.key]).map((i) => [i.path, data[i.key]!])) : data;
    for (const v of (pod.spec.volumes ?? []) as Any[]) {
      if (v.secret || v.configMap) {
        const kind = v.secret ? 'secrets' : 'configmaps';
        const name = v.secret ? v.secret.secretName : v.configMap.name;
        const data = await this.object(kind, ns, name);
        if (!data && !(v.secret ?? v.configMap).optional) {
          throw new MissingInput('ContainerCreating', `${kind.slice(0, -1)} "${name}" not found`, {
            reason: 'FailedMount',
            message: `MountVolume.SetUp failed for volume "${v.name}" : ${kind.slice(0, -1)} "${name}" not found`,
          });
        }
        const dir = join(base, v.secret ? 'kubernetes.io~secret' : 'kubernetes.io~configmap', v.name);
        write(dir, pick(data ?? {}, (v.secret ?? v.configMap).items));
        volumeDirs.set(v.name, dir);
      } else if (v.projected) {
        const files: Record<string, Buffer> = {};
        for (const src of (v.projected.sources ?? []) as Any[]) {
          if (src.serviceAccountToken)
            files[src.serviceAccountToken.path] = Buffer.from(
              await this.token(pod, src.serviceAccountToken.audience, src.serviceAccountToken.expirationSeconds ?? 3600),
            );
          if (src.configMap || src.secret) {
            const kind = src.secret ? 'secrets' : 'configmaps';
            const ref = src.secret ?? src.configMap;
            const data = await this.object(kind, ns, ref.name);
            if (!data && !ref.optional) {
              throw new MissingInput('ContainerCreating', `${kind.slice(0, -1)} "${ref.name}" not found`, {
                reason: 'FailedMount',
                message: `MountVolume.SetUp failed for volume "${v.name}" : ${kind.slice(0, -1)} "${ref.name}" not found`,
              });
            }
            Object.assign(files, pick(data ?? {}, ref.items));
          }
          for (const item of (src.downwardAPI?.items ?? []) as Any[])
            if (item.fieldRef) files[item.path] = Buffer.from(this.fieldValue(pod, item.fieldRef.fieldPath));
        }
        const dir = join(base, 'kubernetes.io~projected', v.name);
        write(dir, files);
        volumeDirs.set(v.name, dir);
      } else if (v.emptyDir) {
        const dir = join(base, 'kubernetes.io~empty-dir', v.name);
        mkdirSync(dir, { recursive: true });
        volumeDirs.set(v.name, dir);
      } else if (v.hostPath) volumeDirs.set(v.name, v.hostPath.path);
    }
    const env = new Map<string, string[]>();
    const mounts = new Map<string, { src: string; dst: string; ro: boolean }[]>();
    for (const c of [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])] as Any[]) {
      const list: string[] = [];
      for (const from of (c.envFrom ?? []) as Any[]) {
        const ref = from.secretRef ?? from.configMapRef;
        const kind = from.secretRef ? 'secrets' : 'configmaps';
        const data = await this.object(kind, ns, ref.name);
        if (!data && !ref.optional) throw new MissingInput('CreateContainerConfigError', `${kind.slice(0, -1)} "${ref.name}" not found`);
        for (const [k, v] of Object.entries(data ?? {})) list.push(`${from.prefix ?? ''}${k}=${v.toString('utf8')}`);
      }
      for (const e of (c.env ?? []) as Any[]) {
        if (e.value !== undefined) list.push(`${e.name}=${e.value}`);
        else if (e.valueFrom?.fieldRef) list.push(`${e.name}=${this.fieldValue(pod, e.valueFrom.fieldRef.fieldPath)}`);
        else if (e.valueFrom?.secretKeyRef || e.valueFrom?.configMapKeyRef) {
          const ref = e.valueFrom.secretKeyRef ?? e.valueFrom.configMapKeyRef;
          const kind = e.valueFrom.secretKeyRef ? 'secrets' : 'configmaps';
          const data = await this.object(kind, ns, ref.name);
          if (!data?.[ref.key] && !ref.optional) {
            throw new MissingInput(
              'CreateContainerConfigError',
              data
                ? `couldn't find key ${ref.key} in ${kind === 'secrets' ? 'Secret' : 'ConfigMap'} ${ns}/${ref.name}`
                : `${kind.slice(0, -1)} "${ref.name}" not found`,
            );
          }
          if (data?.[ref.key]) list.push(`${e.name}=${data[ref.key]!.toString('utf8')}`);
        }
      }
      env.set(c.name, list);
      mounts.set(
        c.name,
        ((c.volumeMounts ?? []) as Any[])
          .filter((m) => volumeDirs.has(m.name))
          .map((m) => ({ src: volumeDirs.get(m.name)!, dst: m.mountPath, ro: !!m.readOnly })),
      );
    }
    return { env, mounts };
  }
}
