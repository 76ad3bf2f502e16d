// The kube-controller-manager controllers a node's life depends on, run in-process by the FAKE API server after
// each change (and on a 1 s tick for time-based work):
//  - serviceaccount + root-ca-cert-publisher: `default` ServiceAccount and the kube-root-ca.crt ConfigMap in
//    every namespace (pkg/controller/serviceaccount, pkg/controller/certificates/rootcacertpublisher);
//  - node-ipam (RangeAllocator, --allocate-node-cidrs): spec.podCIDR(s) for new Nodes from the cluster CIDR,
//    /24 per node by default, lowest free range first (pkg/controller/nodeipam/ipam/range_allocator.go);
//  - disruption: PodDisruptionBudget status (expectedPods, currentHealthy, desiredHealthy, disruptionsAllowed,
//    disruptedPods expiry after 2 min, DisruptionAllowed condition) (pkg/controller/disruption/disruption.go);
//  - csrapproving: node client CSRs approved when a SubjectAccessReview of the requester for
//    certificatesigningrequests/nodeclient (or selfnodeclient, when CN = requester) create is allowed
//    (pkg/controller/certificates/approver/sarapprove.go); csrsigning: approved kubelet client (and kubelet serving)
//    CSRs signed by the cluster CA after the signer's validation (pkg/controller/certificates/signer);
//  - tokencleaner: expired bootstrap-token Secrets deleted (pkg/controller/bootstrap/tokencleaner.go);
//  - garbage collector (background cascade by ownerReferences) and pod GC of pods bound to deleted Nodes
//    (pkg/controller/garbagecollector, pkg/controller/podgc: the real one waits a 40 s quarantine, the fake does not);
//  - node lifecycle (pkg/controller/nodelifecycle/node_lifecycle_controller.go, tryUpdateNodeHealth and
//    doNoExecuteTaintingPass/doNoScheduleTaintingPass): a Node whose kubelet has not renewed its Lease nor posted
//    its status for --node-monitor-grace-period (default 40 s, config/v1alpha1/defaults.go; --node-startup-grace-period
//    60 s before its first Ready) gets its conditions set to Unknown, reason NodeStatusUnknown, "Kubelet stopped
//    posting node status."; node.kubernetes.io/unreachable (Ready Unknown) and node.kubernetes.io/not-ready (Ready
//    False) taints, NoSchedule and NoExecute, follow the Ready condition, and node.kubernetes.io/unschedulable:NoSchedule
//    follows spec.unschedulable (TaintNodesByCondition). Heartbeats are read from the times written (one clock
//    here), where the real controller times its own observations.
import type { ApiResource } from './api-resources.js';
import { BOOTSTRAP_TOKEN_SECRET_TYPE, bootstrapSecretExpired } from './bootstrap-tokens.js';
import { cidrString, overlaps, parseCidr, subnet } from './cidr.js';
import type { ClusterCa } from './cluster-ca.js';
import { parseCsr } from './csr.js';
import { labelSelectorMatches } from './selectors.js';
import { now, type ObjectStore, type StoreEvent } from './store.js';
import type { AuthzResult, KubeObject, RequestAttributes } from './types.js';

export const KUBELET_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
const PDB_DELETION_TIMEOUT_MS = 2 * 60_000;

export interface ControllerHost {
  store: ObjectStore;
  res(resource: string): ApiResource;
  authorize(attrs: RequestAttributes): AuthzResult;
  ca: ClusterCa;
  /** Remove now, with the garbage collector's cascade. */
  removeNow(res: ApiResource, ns: string, name: string): void;
  podCidr?: { clusterCidr: string; nodeMaskSize: number };
  /** --cluster-signing-duration in seconds (default one year). */
  signingSeconds: number;
  /** --node-monitor-grace-period and --node-startup-grace-period in ms. */
  nodeGraceMs: { monitor: number; startup: number };
  onError(what: string, e: unknown): void;
}

export class Controllers {
  private pending = false;
  private readonly timer: NodeJS.Timeout;
  private readonly signing = new Set<string>();

  constructor(private readonly h: ControllerHost) {
    h.store.listeners.push((e) => this.onEvent(e));
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private onEvent(e: StoreEvent): void {
    if (e.type === 'DELETED') this.cascade(e);
    if (!this.pending) {
      this.pending = true;
      setImmediate(() => {
        this.pending = false;
        this.sync();
      });
    }
  }

  /** Everything level-triggered, so it is correct whatever changed. */
  sync(): void {
    for (const step of [() => this.namespaces(), () => this.nodeIpam(), () => this.nodeLifecycle(), () => this.disruption(), () => this.csrs()]) {
      try {
        step();
      } catch (e) {
        this.h.onError('controller', e);
      }
    }
  }

  private tick(): void {
    try {
      this.tokenCleaner();
      this.nodeLifecycle();
      this.disruption();
    } catch (e) {
      this.h.onError('controller tick', e);
    }
  }

  private namespaces(): void {
    const { store } = this.h;
    const sa = this.h.res('serviceaccounts');
    const cm = this.h.res('configmaps');
    for (const ns of store.list(this.h.res('namespaces'))) {
      if ((ns.status as { phase?: string })?.phase === 'Terminating') continue;
      const name = ns.metadata.name;
      if (!store.get(sa, name, 'default')) store.create(sa, { metadata: { name: 'default', namespace: name } });
      if (!store.get(cm, name, 'kube-root-ca.crt')) {
        store.create(cm, {
          metadata: {
            name: 'kube-root-ca.crt',
            namespace: name,
            annotations: {
              'kubernetes.io/description':
                'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.',
            },
          },
          data: { 'ca.crt': this.h.ca.certPem },
        });
      }
    }
  }

  private nodeIpam(): void {
    if (!this.h.podCidr) return;
    const nodes = this.h.res('nodes');
    const cluster = parseCidr(this.h.podCidr.clusterCidr);
    const all = this.h.store.list(nodes);
    const used = all
      .map((n) => (n.spec as { podCIDR?: string } | undefined)?.podCIDR)
      .filter((c): c is string => !!c)
      .map(parseCidr);
    for (const n of all) {
      const spec = (n.spec ?? {}) as { podCIDR?: string; podCIDRs?: string[] };
      if (spec.podCIDR) continue;
      let pick: string | undefined;
      for (let i = 0; ; i++) {
        const s = subnet(cluster, this.h.podCidr.nodeMaskSize, i);
        if (!s) break;
        if (!used.some((u) => overlaps(u, s))) {
          pick = cidrString(s);
          used.push(s);
          break;
        }
      }
      if (!pick) continue; // CIDRNotAvailable: the real controller records an event and leaves the node without a range
      this.h.store.replace(nodes, { ...n, spec: { ...spec, podCIDR: pick, podCIDRs: [pick] } });
    }
  }

  // ---- node lifecycle controller ----

  private nodeLifecycle(): void {
    const nodes = this.h.res('nodes');
    const leases = this.h.res('leases');
    const at = Date.now();
    for (const n of this.h.store.list(nodes)) {
      const status = (n.status ?? {}) as { conditions?: NodeCondition[] };
      let conditions = status.conditions ?? [];
      const ready = conditions.find((c) => c.type === 'Ready');
      const renewed = (this.h.store.get(leases, 'kube-node-lease', n.metadata.name)?.spec as { renewTime?: string } | undefined)?.renewTime;
      const heard = Math.max(...[renewed, ready?.lastHeartbeatTime, n.metadata.creationTimestamp].map((t) => (t ? Date.parse(t) : 0)).filter(Number.isFinite));
      const grace = ready ? this.h.nodeGraceMs.monitor : this.h.nodeGraceMs.startup;
      if (at - heard > grace && ready?.status !== 'Unknown') {
        // tryUpdateNodeHealth: each of these conditions goes Unknown in place; one the kubelet never posted is added,
        // NodeStatusNeverUpdated, with the Node's creation as its heartbeat; one already Unknown is left as it is.
        const stamp = now();
        const silent = (c: NodeCondition): NodeCondition =>
          c.status === 'Unknown'
            ? c
            : { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: stamp };
        const types = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];
        conditions = [
          ...conditions.map((c) => (types.includes(c.type) ? silent(c) : c)),
          ...types
            .filter((type) => !conditions.some((c) => c.type === type))
            .map((type) => ({
              type,
              status: 'Unknown',
              reason: 'NodeStatusNeverUpdated',
              message: 'Kubelet never posted node status.',
              lastHeartbeatTime: n.metadata.creationTimestamp ?? stamp,
              lastTransitionTime: stamp,
            })),
        ];
      }
      const spec = (n.spec ?? {}) as { taints?: Taint[]; unschedulable?: boolean };
      const taints = nodeTaints(spec.taints ?? [], conditions.find((c) => c.type === 'Ready')?.status, spec.unschedulable === true);
      if (JSON.stringify(conditions) === JSON.stringify(status.conditions ?? []) && JSON.stringify(taints) === JSON.stringify(spec.taints ?? [])) continue;
      const { taints: _old, ...rest } = spec;
      this.h.store.replace(nodes, { ...n, spec: { ...rest, ...(taints.length ? { taints } : {}) }, status: { ...status, conditions } });
    }
  }

  // ---- disruption controller ----

  private disruption(): void {
    const pdbs = this.h.res('poddisruptionbudgets');
    for (const pdb of this.h.store.list(pdbs)) {
      const status = this.pdbStatus(pdb);
      if (JSON.stringify(status) !== JSON.stringify(pdb.status)) this.h.store.replace(pdbs, { ...pdb, status });
    }
  }

  private pdbStatus(pdb: KubeObject): Record<string, unknown> {
    const spec = (pdb.spec ?? {}) as {
      selector?: Parameters<typeof labelSelectorMatches>[0];
      minAvailable?: number | string;
      maxUnavailable?: number | string;
    };
    const pods = this.h.store.list(this.h.res('pods'), pdb.metadata.namespace).filter((p) => labelSelectorMatches(spec.selector, p.metadata.labels));
    const old = (pdb.status ?? {}) as { disruptedPods?: Record<string, string> };
    const at = Date.now();
    const disrupted: Record<string, string> = {};
    for (const [pod, when] of Object.entries(old.disruptedPods ?? {})) {
      const p = pods.find((x) => x.metadata.name === pod);
      // kept while the pod exists, is not yet being deleted and the eviction is recent
      if (p && !p.metadata.deletionTimestamp && Date.parse(when) + PDB_DELETION_TIMEOUT_MS > at) disrupted[pod] = when;
    }
    let expected: number;
    let desired: number;
    try {
      if (spec.maxUnavailable !== undefined) {
        expected = this.expectedScale(pods);
        desired = Math.max(0, expected - scaled(spec.maxUnavailable, expected));
      } else if (typeof spec.minAvailable === 'string' && spec.minAvailable.endsWith('%')) {
        expected = this.expectedScale(pods);
        desired = scaled(spec.minAvailable, expected);
      } else {
        expected = pods.length;
        desired = Number(spec.minAvailable ?? 0);
      }
    } catch (e) {
      return {
        observedGeneration: pdb.metadata.generation,
        disruptionsAllowed: 0,
        currentHealthy: 0,
        desiredHealthy: 0,
        expectedPods: 0,
        ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
        conditions: [
          { type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: (e as Error).message, observedGeneration: pdb.metadata.generation },
        ],
      };
    }
    const healthy = pods.filter((p) => !p.metadata.deletionTimestamp && !(p.metadata.name in disrupted) && podReady(p)).length;
    const allowed = Math.max(0, healthy - desired);
    return {
      observedGeneration: pdb.metadata.generation,
      disruptionsAllowed: allowed,
      currentHealthy: healthy,
      desiredHealthy: desired,
      expectedPods: expected,
      ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
      conditions: [
        {
          type: 'DisruptionAllowed',
          status: allowed > 0 ? 'True' : 'False',
          reason: allowed > 0 ? 'SufficientPods' : 'InsufficientPods',
          message: '',
          observedGeneration: pdb.metadata.generation,
        },
      ],
    };
  }

  /** Sum of the scales of the pods' controllers (ReplicationController, ReplicaSet or its Deployment, StatefulSet). */
  private expectedScale(pods: KubeObject[]): number {
    const seen = new Map<string, number>();
    for (const p of pods) {
      const ref = (p.metadata.ownerReferences ?? []).find((o) => o.controller);
      if (!ref) throw new Error(`found no controller ref for pod "${p.metadata.name}"`);
      const res =
        ref.kind === 'ReplicaSet'
          ? 'replicasets'
          : ref.kind === 'StatefulSet'
            ? 'statefulsets'
            : ref.kind === 'ReplicationController'
              ? 'replicationcontrollers'
              : undefined;
      const direct = res ? this.h.store.get(this.h.res(res), p.metadata.namespace!, ref.name) : undefined;
      if (!direct || direct.metadata.uid !== ref.uid) throw new Error(`found no controllers for pod "${p.metadata.name}"`);
      let owner = direct;
      const dref = ref.kind === 'ReplicaSet' ? (direct.metadata.ownerReferences ?? []).find((o) => o.controller && o.kind === 'Deployment') : undefined;
      const deployment = dref && this.h.store.get(this.h.res('deployments'), p.metadata.namespace!, dref.name);
      if (deployment && deployment.metadata.uid === dref!.uid) owner = deployment;
      seen.set(owner.metadata.uid!, Number((owner.spec as { replicas?: number } | undefined)?.replicas ?? 1));
    }
    return [...seen.values()].reduce((a, b) => a + b, 0);
  }

  // ---- certificates ----

  private csrs(): void {
    const csrs = this.h.res('certificatesigningrequests');
    for (const csr of this.h.store.list(csrs)) {
      const spec = (csr.spec ?? {}) as {
        signerName?: string;
        request?: string;
        usages?: string[];
        username?: string;
        uid?: string;
        groups?: string[];
        extra?: Record<string, string[]>;
        expirationSeconds?: number;
      };
      const status = (csr.status ?? {}) as { certificate?: string; conditions?: { type: string; status: string }[] };
      const cond = (t: string) => (status.conditions ?? []).some((c) => c.type === t && c.status === 'True');
      if (status.certificate || cond('Denied') || cond('Failed')) continue;
      let parsed: ReturnType<typeof parseCsr>;
      try {
        parsed = parseCsr(Buffer.from(spec.request ?? '', 'base64').toString('utf8'));
      } catch {
        continue;
      }
      if (!cond('Approved')) {
        if (spec.signerName !== KUBELET_CLIENT_SIGNER || kubeletClientProblem(parsed, spec.usages ?? [])) continue;
        const self = spec.username === parsed.commonName;
        const subresources = self ? ['selfnodeclient', 'nodeclient'] : ['nodeclient'];
        for (const sub of subresources) {
          const sar = this.h.authorize({
            user: { name: spec.username ?? '', uid: spec.uid, groups: spec.groups ?? [], extra: spec.extra },
            verb: 'create',
            isResourceRequest: true,
            path: '',
            apiGroup: 'certificates.k8s.io',
            apiVersion: '*',
            resource: 'certificatesigningrequests',
            subresource: sub,
            namespace: '',
            name: '',
          });
          if (sar.decision === 'allow') {
            const message =
              sub === 'selfnodeclient'
                ? 'Auto approving self kubelet client certificate after SubjectAccessReview.'
                : 'Auto approving kubelet client certificate after SubjectAccessReview.';
            this.h.store.replace(csrs, {
              ...csr,
              status: {
                ...status,
                conditions: [
                  ...(status.conditions ?? []),
                  { type: 'Approved', status: 'True', reason: 'AutoApproved', message, lastUpdateTime: now(), lastTransitionTime: now() },
                ],
              },
            });
            break;
          }
        }
        continue;
      }
      this.sign(csr, parsed);
    }
  }

  private sign(csr: KubeObject, parsed: ReturnType<typeof parseCsr>): void {
    const spec = csr.spec as { signerName?: string; request: string; usages?: string[]; expirationSeconds?: number };
    if (spec.signerName !== KUBELET_CLIENT_SIGNER && spec.signerName !== KUBELET_SERVING_SIGNER) return; // signed by no controller here
    if (this.signing.has(csr.metadata.uid!)) return;
    const csrs = this.h.res('certificatesigningrequests');
    const problem = spec.signerName === KUBELET_CLIENT_SIGNER ? kubeletClientProblem(parsed, spec.usages ?? []) : kubeletServingProblem(parsed);
    if (problem) {
      const cur = this.h.store.get(csrs, '', csr.metadata.name)!;
      this.h.store.replace(csrs, {
        ...cur,
        status: {
          ...(cur.status ?? {}),
          conditions: [
            ...(((cur.status ?? {}) as { conditions?: unknown[] }).conditions ?? []),
            { type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: problem, lastUpdateTime: now(), lastTransitionTime: now() },
          ],
        },
      });
      return;
    }
    this.signing.add(csr.metadata.uid!);
    const seconds = Math.min(spec.expirationSeconds ?? this.h.signingSeconds, this.h.signingSeconds);
    this.h.ca
      .signCsr(Buffer.from(spec.request, 'base64').toString('utf8'), seconds, spec.usages ?? [])
      .then(
        (pem) => {
          const cur = this.h.store.get(csrs, '', csr.metadata.name);
          if (cur && cur.metadata.uid === csr.metadata.uid)
            this.h.store.replace(csrs, { ...cur, status: { ...(cur.status ?? {}), certificate: Buffer.from(pem).toString('base64') } });
        },
        (e) => this.h.onError(`signing ${csr.metadata.name}`, e),
      )
      .finally(() => this.signing.delete(csr.metadata.uid!));
  }

  // ---- cleanup ----

  private tokenCleaner(): void {
    const secrets = this.h.res('secrets');
    for (const s of this.h.store.list(secrets, 'kube-system')) {
      if (s.type === BOOTSTRAP_TOKEN_SECRET_TYPE && bootstrapSecretExpired(s)) this.h.removeNow(secrets, 'kube-system', s.metadata.name);
    }
  }

  /** Garbage collector (background propagation) and podgc for pods bound to a deleted Node. */
  private cascade(e: StoreEvent): void {
    const uid = e.object.metadata.uid;
    setImmediate(() => {
      try {
        for (const res of ['pods', 'leases', 'csinodes', 'replicasets', 'configmaps', 'secrets', 'events', 'endpointslices']) {
          const r = this.h.res(res);
          for (const o of this.h.store.list(r)) {
            const owners = o.metadata.ownerReferences ?? [];
            if (owners.length && owners.every((x) => x.uid === uid)) this.h.removeNow(r, o.metadata.namespace ?? '', o.metadata.name);
          }
        }
        if (e.res.resource === 'nodes') {
          const pods = this.h.res('pods');
          for (const p of this.h.store.list(pods)) {
            if ((p.spec as { nodeName?: string })?.nodeName === e.object.metadata.name) this.h.removeNow(pods, p.metadata.namespace!, p.metadata.name);
          }
        }
      } catch (err) {
        this.h.onError('garbage collector', err);
      }
    });
  }
}

export function podReady(p: KubeObject): boolean {
  return (((p.status ?? {}) as { conditions?: { type: string; status: string }[] }).conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** intstr.GetScaledValueFromIntOrPercent with roundUp. */
function scaled(v: number | string, total: number): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  return m ? Math.ceil((Number(m[1]) * total) / 100) : Number(v);
}

/** certificates ValidateKubeletClientCSR: O exactly [system:nodes], CN system:node:*, no SANs, usages exactly one of the two sets. */
export function kubeletClientProblem(csr: { commonName: string; organizations: string[]; hasSans: boolean }, usages: string[]): string | undefined {
  if (csr.organizations.length !== 1 || csr.organizations[0] !== 'system:nodes') return 'subject organization is not system:nodes';
  if (csr.hasSans) return 'DNS, email, IP or URI subjectAltNames are not allowed';
  if (!csr.commonName.startsWith('system:node:')) return 'subject common name does not begin with system:node:';
  const set = [...new Set(usages)].sort().join(',');
  if (set !== 'client auth,digital signature' && set !== 'client auth,digital signature,key encipherment') {
    return `usages did not match [client auth digital signature key encipherment] or [client auth digital signature]`;
  }
  return undefined;
}

function kubeletServingProblem(csr: { commonName: string; organizations: string[] }): string | undefined {
  if (csr.organizations.length !== 1 || csr.organizations[0] !== 'system:nodes') return 'subject organization is not system:nodes';
  if (!csr.commonName.startsWith('system:node:')) return 'subject common name does not begin with system:node:';
  return undefined;
}

interface NodeCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

const UNREACHABLE = 'node.kubernetes.io/unreachable';
const NOT_READY = 'node.kubernetes.io/not-ready';
const UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

/** The node's taints with the controller's own set to follow its Ready condition and spec.unschedulable; others kept. */
function nodeTaints(current: readonly Taint[], ready: string | undefined, unschedulable: boolean): Taint[] {
  const ours = new Set([UNREACHABLE, NOT_READY, UNSCHEDULABLE]);
  const want: Taint[] = [];
  const keep = (key: string, effect: string) => {
    const had = current.find((t) => t.key === key && t.effect === effect);
    want.push(had ?? { key, effect, ...(effect === 'NoExecute' ? { timeAdded: now() } : {}) });
  };
  const condition = ready === 'Unknown' ? UNREACHABLE : ready === 'False' ? NOT_READY : undefined;
  if (condition) for (const effect of ['NoSchedule', 'NoExecute']) keep(condition, effect);
  if (unschedulable) keep(UNSCHEDULABLE, 'NoSchedule');
  // Without a Ready condition the NoExecute pass does not touch the node (doNoExecuteTaintingPass skips it).
  const untouched = (t: Taint) => !ours.has(t.key) || (ready === undefined && t.effect === 'NoExecute');
  return [...current.filter(untouched), ...want.filter((t) => !(ready === undefined && t.effect === 'NoExecute'))];
}
