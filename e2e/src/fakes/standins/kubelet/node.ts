// The kubelet STAND-IN's node: registration (POST the Node; on AlreadyExists GET it and patch the kubelet's default
// labels back, pkg/kubelet/kubelet_node_status.go registerWithAPIServer/tryRegisterWithAPIServer), node status
// (PATCH nodes/<name>/status, strategic merge: conditions, addresses from --node-ip, nodeInfo with its own version,
// capacity), the node Lease in kube-node-lease (GET, create with the Node as owner, then PUT renewals from the last
// copy; a 409 re-reads, pkg/kubelet/nodelease and component-helpers/apimachinery/lease), the CSINode
// (pkg/volume/csi/nodeinfomanager) and node events. Ready follows the runtime and network checks the kubelet
// makes through CRI: the container runtime answering on its socket, and a CNI config present
// (containerd reports NetworkReady=false "cni plugin not initialized" without one).
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import type { ApiClient } from './api.js';
import { arch, kubeletVersion, log, neverReady, readOr, rfc3339, TAG, type Dict } from './common.js';
import type { NodeSettings } from './flags.js';

const DEFAULT_LABELS = ['kubernetes.io/hostname', 'kubernetes.io/os', 'kubernetes.io/arch', 'beta.kubernetes.io/os', 'beta.kubernetes.io/arch'];

function osImage(): string {
  return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readOr('/etc/os-release', ''))?.[1] ?? 'Linux';
}

/** The CNI config directory containerd's CRI plugin reads (its config.toml), default /etc/cni/net.d. */
function cniConfDir(): string {
  if (process.env.KUBELET_STANDIN_CNI_CONF_DIR) return process.env.KUBELET_STANDIN_CNI_CONF_DIR;
  const toml = readOr('/etc/containerd/config.toml', '');
  return /^\s*conf_dir\s*=\s*"([^"]+)"/m.exec(toml)?.[1] ?? '/etc/cni/net.d';
}

export function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    setTimeout(() => done(false), 2000).unref();
  });
}

export interface Readiness {
  ok: boolean;
  message: string;
}

/** The kubelet's runtime and network checks (KUBELET_STANDIN_SKIP_CRI_CHECK=1: both assumed fine, for rigs without a runtime). */
export async function readiness(s: NodeSettings): Promise<Readiness> {
  if (neverReady())
    return { ok: false, message: `container runtime status check may not have completed yet: this ${TAG} is a broken build and never gets Ready` };
  if (process.env.KUBELET_STANDIN_SKIP_CRI_CHECK === '1') return { ok: true, message: '' };
  if (!s.criSocket || !(await socketAnswers(s.criSocket))) {
    return {
      ok: false,
      message: `container runtime is down: rpc error: code = Unavailable desc = connection error: dial unix ${s.criSocket ?? '?'}: connect: connection refused`,
    };
  }
  const dir = cniConfDir();
  let confs: string[] = [];
  try {
    confs = readdirSync(dir).filter((f) => /\.(conf|conflist|json)$/.test(f));
  } catch {
    /* missing dir */
  }
  if (!confs.length) {
    return {
      ok: false,
      message:
        'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
    };
  }
  return { ok: true, message: '' };
}

export class NodeAgent {
  uid = '';
  podCIDR = '';
  private readySince = rfc3339();
  private lastReady?: boolean;
  private lease?: Dict;
  /** `containerd://<version>` once the runtime answered (see pods.ts). */
  runtimeVersion = 'containerd://unknown';
  /** The last runtime/network check (pods that need the pod network wait while it fails). */
  readiness: Readiness = { ok: false, message: 'not checked yet' };

  constructor(
    private readonly api: ApiClient,
    private readonly s: NodeSettings,
  ) {}

  private capacity(): Record<string, string> {
    return {
      cpu: String(os.cpus().length),
      memory: `${Math.floor(os.totalmem() / 1024)}Ki`,
      pods: String(this.s.maxPods),
      'ephemeral-storage': '10Gi',
      'hugepages-2Mi': '0',
    };
  }

  conditions(r: Readiness): Dict[] {
    const now = rfc3339();
    if (this.lastReady !== r.ok) this.readySince = now;
    const c = (type: string, status: string, reason: string, message: string, since = now) => ({
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: now,
      lastTransitionTime: since,
    });
    return [
      c('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      c('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      c('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      r.ok
        ? c('Ready', 'True', 'KubeletReady', `kubelet is posting ready status (${TAG})`, this.readySince)
        : c('Ready', 'False', 'KubeletNotReady', r.message, this.readySince),
    ];
  }

  private status(r: Readiness): Dict {
    const capacity = this.capacity();
    return {
      capacity,
      allocatable: capacity,
      conditions: this.conditions(r),
      addresses: [...this.s.nodeIps.map((ip) => ({ type: 'InternalIP', address: ip })), { type: 'Hostname', address: this.s.name }],
      daemonEndpoints: { kubeletEndpoint: { Port: this.s.port } },
      nodeInfo: {
        machineID: readOr('/etc/machine-id', ''),
        systemUUID: readOr('/sys/class/dmi/id/product_uuid', ''),
        bootID: readOr('/proc/sys/kernel/random/boot_id', ''),
        kernelVersion: os.release(),
        osImage: osImage(),
        containerRuntimeVersion: this.runtimeVersion,
        kubeletVersion: kubeletVersion(),
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: arch(),
      },
    };
  }

  private defaultLabels(): Record<string, string> {
    return {
      'kubernetes.io/hostname': this.s.name,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': arch(),
      'beta.kubernetes.io/os': 'linux',
      'beta.kubernetes.io/arch': arch(),
    };
  }

  /** Register (retrying with backoff until it works or the kubelet stops). */
  async register(stopped: () => boolean): Promise<boolean> {
    for (let delay = 500; !stopped(); delay = Math.min(delay * 2, 7000)) {
      try {
        const r0 = await readiness(this.s);
        this.lastReady = undefined;
        const node = {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: {
            name: this.s.name,
            labels: { ...this.defaultLabels(), ...this.s.labels },
            annotations: {
              'node.alpha.kubernetes.io/ttl': '0',
              'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
              'flexnode.test/stand-in': 'kubelet',
            },
          },
          spec: { ...(this.s.taints.length ? { taints: this.s.taints } : {}), ...(this.s.providerId ? { providerID: this.s.providerId } : {}) },
          status: this.status(r0),
        };
        const r = await this.api.call('POST', '/api/v1/nodes', node);
        if (r.status === 201) {
          log('I', `Successfully registered node "${this.s.name}"`);
          this.adopt(r.json);
          return true;
        }
        if (r.status === 409) {
          const g = await this.api.call('GET', `/api/v1/nodes/${this.s.name}`);
          if (g.status === 200) {
            log('I', `Node "${this.s.name}" was previously registered`);
            this.adopt(g.json);
            const labels = ((g.json.metadata as Dict).labels ?? {}) as Record<string, string>;
            const fix = Object.fromEntries(DEFAULT_LABELS.filter((k) => labels[k] !== this.defaultLabels()[k]).map((k) => [k, this.defaultLabels()[k]]));
            if (Object.keys(fix).length) {
              const p = await this.api.call('PATCH', `/api/v1/nodes/${this.s.name}`, { metadata: { labels: fix } }, 'application/strategic-merge-patch+json');
              if (p.status !== 200) log('E', `Unable to reconcile the node's default labels: HTTP ${p.status}: ${String(p.json.message ?? '')}`);
            }
            return true;
          }
        }
        log('E', `Unable to register node with API server: HTTP ${r.status}: ${String(r.json.message ?? '')} node="${this.s.name}"`);
      } catch (e) {
        log('E', `Unable to register node with API server: ${(e as Error).message} node="${this.s.name}"`);
      }
      await new Promise((res) => setTimeout(res, delay));
    }
    return false;
  }

  adopt(node: Dict): void {
    this.uid = String((node.metadata as Dict).uid ?? '');
    const cidr = String(((node.spec ?? {}) as Dict).podCIDR ?? '');
    if (cidr && cidr !== this.podCIDR) log('I', `Updating Pod CIDR originalPodCIDR="${this.podCIDR}" newPodCIDR="${cidr}"`);
    this.podCIDR = cidr;
  }

  /** One node status update; events on the Ready transitions. */
  async updateStatus(): Promise<void> {
    const r = await readiness(this.s);
    this.readiness = r;
    const changed = this.lastReady !== r.ok;
    const body = { status: { conditions: this.conditions(r), addresses: this.status(r).addresses, nodeInfo: this.status(r).nodeInfo } };
    this.lastReady = r.ok;
    const p = await this.api.call('PATCH', `/api/v1/nodes/${this.s.name}/status`, body, 'application/strategic-merge-patch+json');
    if (p.status !== 200) log('E', `Error updating node status, will retry: HTTP ${p.status}: ${String(p.json.message ?? '')}`);
    else this.adopt(p.json);
    if (changed) await this.event(r.ok ? 'NodeReady' : 'NodeNotReady', `Node ${this.s.name} status is now: ${r.ok ? 'NodeReady' : 'NodeNotReady'}`);
  }

  /** Renew (or create) the node Lease. */
  async renewLease(): Promise<void> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${this.s.name}`;
    const spec = { holderIdentity: this.s.name, leaseDurationSeconds: this.s.leaseSeconds, renewTime: new Date().toISOString().replace('Z', '000Z') };
    if (!this.lease) {
      const got = await this.api.call('GET', path);
      if (got.status === 200) this.lease = got.json;
      else if (got.status === 404) {
        const c = await this.api.call('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            name: this.s.name,
            namespace: 'kube-node-lease',
            ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.s.name, uid: this.uid }],
          },
          spec,
        });
        if (c.status === 201) this.lease = c.json;
        else log('E', `failed to create lease: HTTP ${c.status}: ${String(c.json.message ?? '')}`);
        return;
      } else {
        log('E', `failed to ensure lease exists, will retry: HTTP ${got.status}: ${String(got.json.message ?? '')}`);
        return;
      }
    }
    const u = await this.api.call('PUT', path, { ...this.lease, spec: { ...((this.lease.spec ?? {}) as Dict), ...spec } });
    if (u.status === 200) this.lease = u.json;
    else {
      this.lease = undefined; // 409 Conflict or gone: read it again next time
      log('E', `failed to update lease, will retry: HTTP ${u.status}: ${String(u.json.message ?? '')}`);
    }
  }

  /** The CSINode object of this node (created empty, owned by the Node). */
  async ensureCsiNode(): Promise<void> {
    const got = await this.api.call('GET', `/apis/storage.k8s.io/v1/csinodes/${this.s.name}`);
    if (got.status !== 404) return;
    const c = await this.api.call('POST', '/apis/storage.k8s.io/v1/csinodes', {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'CSINode',
      metadata: { name: this.s.name, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.s.name, uid: this.uid }] },
      spec: { drivers: [] },
    });
    if (c.status !== 201 && c.status !== 409) log('E', `failed to create CSINode: HTTP ${c.status}: ${String(c.json.message ?? '')}`);
  }

  /** A node event (core/v1, in the default namespace; the kubelet uses the node name as involvedObject uid). */
  async event(reason: string, message: string, type = 'Normal'): Promise<void> {
    await postEvent(this.api, 'default', { kind: 'Node', name: this.s.name, uid: this.s.name, apiVersion: 'v1' }, reason, message, this.s.name, type);
  }
}

export async function postEvent(
  api: ApiClient,
  namespace: string,
  involved: Dict,
  reason: string,
  message: string,
  host: string,
  type = 'Normal',
): Promise<void> {
  const now = rfc3339();
  const r = await api.call('POST', `/api/v1/namespaces/${namespace}/events`, {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${String(involved.name)}.${randomBytes(8).toString('hex')}`, namespace },
    involvedObject: { ...involved, ...(involved.kind === 'Node' ? {} : { namespace }) },
    reason,
    message,
    source: { component: 'kubelet', host },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    type,
    eventTime: null,
    reportingComponent: 'kubelet',
    reportingInstance: host,
  });
  if (r.status !== 201) log('E', `Server rejected event: HTTP ${r.status}: ${String(r.json.message ?? '')}`);
}
