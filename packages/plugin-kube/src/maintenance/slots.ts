import { FlexnodeError, type Logger } from '@flexnode/sdk';
import type { SlotsApi } from './clients.js';
import { apiFailure } from './cordon.js';

/**
 * Upgrade slots: at most `slots` nodes of a cluster upgrade at once, whoever starts them (an Ansible play, the
 * agents). Slot i is the coordination.k8s.io/v1 Lease `flexnode-upgrade-<i>` in `namespace`, held by the node's
 * name as client-go's leader election holds its Lease: create it (201) or take it over when it has no holder or
 * its holder stopped renewing it (renewTime + leaseDurationSeconds passed), with the resourceVersion it read (a
 * 409 means another node got there first); renewed while the upgrade runs; released (holder cleared) at the end.
 * A node that dies holding one frees it when the lease expires; the same node takes its own slot back at once.
 */
export interface SlotOptions {
  namespace: string;
  slots: number;
  /** The holder identity: the Node's name. */
  holder: string;
  leaseSeconds: number;
  /** How long to wait for a free slot. */
  waitMs: number;
  pollMs?: number;
  log: Logger;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export const slotName = (i: number) => `flexnode-upgrade-${i}`;

type Lease = { metadata?: Record<string, unknown>; spec?: LeaseSpec } & Record<string, unknown>;
interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** MicroTime, as the API server stores it (RFC 3339 with microseconds). */
const microTime = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');
const parseTime = (t: string | undefined) => (t ? Date.parse(t.replace(/(\.\d{3})\d*Z$/, '$1Z')) : NaN);

/** When a lease's holder stops holding it, or undefined when it has none. */
function expiry(spec: LeaseSpec): number | undefined {
  if (!spec.holderIdentity) return undefined;
  const renewed = parseTime(spec.renewTime ?? spec.acquireTime);
  return Number.isNaN(renewed) ? 0 : renewed + (spec.leaseDurationSeconds ?? 0) * 1000;
}

/** Take a free slot (or the one this holder already has); wait up to `waitMs`. Returns its Lease's name. */
export async function acquireSlot(api: SlotsApi, o: SlotOptions): Promise<string> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + o.waitMs;
  for (let round = 0; ; round++) {
    const held: string[] = [];
    for (let i = 0; i < o.slots; i++) {
      const name = slotName(i);
      const got = await api.getLease(o.namespace, name);
      if (got.status === 404) {
        const t = microTime(now());
        const created = await api.createLease(o.namespace, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace: o.namespace, labels: { 'app.kubernetes.io/managed-by': 'flexnode' } },
          spec: { holderIdentity: o.holder, leaseDurationSeconds: o.leaseSeconds, acquireTime: t, renewTime: t, leaseTransitions: 0 },
        });
        if (created.status === 201) return name;
        if (created.status === 409) continue; // another node created it first
        throw apiFailure(`creating Lease ${o.namespace}/${name}`, created);
      }
      if (got.status !== 200) throw apiFailure(`reading Lease ${o.namespace}/${name}`, got);
      const lease = got.body as Lease;
      const spec = lease.spec ?? {};
      const until = expiry(spec);
      const mine = spec.holderIdentity === o.holder;
      if (!mine && until !== undefined && until > now()) {
        held.push(`${name} held by ${spec.holderIdentity} (renewed ${spec.renewTime ?? spec.acquireTime ?? '?'})`);
        continue;
      }
      const t = microTime(now());
      const taken = await api.updateLease(o.namespace, name, {
        ...lease,
        spec: {
          ...spec,
          holderIdentity: o.holder,
          leaseDurationSeconds: o.leaseSeconds,
          renewTime: t,
          ...(mine ? {} : { acquireTime: t, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
        },
      });
      if (taken.status === 200) {
        if (!mine && spec.holderIdentity) o.log.warn(`took over upgrade slot ${name} from ${spec.holderIdentity}, which stopped renewing it`);
        return name;
      }
      if (taken.status !== 409) throw apiFailure(`taking Lease ${o.namespace}/${name}`, taken);
    }
    if (now() >= deadline) {
      throw new FlexnodeError(
        'UPGRADE_SLOT_BUSY',
        `no upgrade slot came free in ${Math.round(o.waitMs / 1000)} s (${o.slots} node(s) of the cluster may upgrade at once): ${held.join(', ')}`,
        {
          hint: 'wait for those upgrades to finish (a node that died frees its slot when its lease expires), or raise kubernetes.upgrade.maxConcurrent',
        },
      );
    }
    if (round === 0) o.log.info(`waiting for an upgrade slot: ${held.join(', ')}`);
    await sleep(Math.min(o.pollMs ?? 5000, Math.max(0, deadline - now())));
  }
}

/** Renew this holder's slot; false when it is no longer this holder's (taken over after it expired). */
export async function renewSlot(api: SlotsApi, o: Pick<SlotOptions, 'namespace' | 'holder' | 'leaseSeconds' | 'now'>, name: string): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const got = await api.getLease(o.namespace, name);
    if (got.status !== 200) return false;
    const lease = got.body as Lease;
    if (lease.spec?.holderIdentity !== o.holder) return false;
    const answer = await api.updateLease(o.namespace, name, {
      ...lease,
      spec: { ...lease.spec, leaseDurationSeconds: o.leaseSeconds, renewTime: microTime((o.now ?? Date.now)()) },
    });
    if (answer.status === 200) return true;
    if (answer.status !== 409) throw apiFailure(`renewing Lease ${o.namespace}/${name}`, answer);
  }
  return false;
}

/** Release every slot this holder has (its holder cleared, the Lease kept); returns their names. */
export async function releaseSlots(api: SlotsApi, o: Pick<SlotOptions, 'namespace' | 'holder' | 'slots'>): Promise<string[]> {
  const released: string[] = [];
  // Slots beyond today's count too: maxConcurrent may have been lowered since this holder took one.
  for (let i = 0; i < Math.max(o.slots, 16); i++) {
    const name = slotName(i);
    for (let attempt = 0; attempt < 3; attempt++) {
      const got = await api.getLease(o.namespace, name);
      if (got.status === 404 && i >= o.slots) return released;
      if (got.status !== 200) break;
      const lease = got.body as Lease;
      if (lease.spec?.holderIdentity !== o.holder) break;
      const { holderIdentity: _h, acquireTime: _a, renewTime: _r, ...rest } = lease.spec;
      const answer = await api.updateLease(o.namespace, name, { ...lease, spec: rest });
      if (answer.status === 200) {
        released.push(name);
        break;
      }
      if (answer.status !== 409) throw apiFailure(`releasing Lease ${o.namespace}/${name}`, answer);
    }
  }
  return released;
}
