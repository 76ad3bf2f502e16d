import { expect } from 'chai';
import { ConfigError, type FlexnodeConfig } from '@flexnode/sdk';
import { testConfig } from '@flexnode/sdk/testing';
import { parseCidr } from './cidr.js';
import {
  checkAllocatedRange,
  clusterAllocates,
  nameHash,
  planPodRange,
  podAddresses,
  poolShare,
  type ClusterRanges,
  type NodeRange,
  type PodRangeInput,
} from './pod-range.js';

const OVERLAY: ClusterRanges = { networkPlugin: 'azure', networkPluginMode: 'overlay', podCidrs: ['10.244.0.0/16'], serviceCidrs: ['10.0.0.0/16'] };
const KUBENET: ClusterRanges = { networkPlugin: 'kubenet', podCidrs: ['10.244.0.0/16'], serviceCidrs: ['10.0.0.0/16'] };
const VNET_PODS: ClusterRanges = { networkPlugin: 'azure', podCidrs: [], serviceCidrs: ['10.0.0.0/16'] };
const BYO: ClusterRanges = { networkPlugin: 'none', podCidrs: ['10.244.0.0/16'], serviceCidrs: ['10.0.0.0/16'] };

const plan = (config: FlexnodeConfig, cluster: ClusterRanges, extra: Partial<PodRangeInput> = {}) =>
  planPodRange({ config, cluster, nodeName: 'edge-1', others: [], needed: true, ...extra });
const refusal = (run: () => unknown): ConfigError => {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  return expect.fail('not refused');
};

describe("the node's pod range", () => {
  it('which clusters allocate a range to every Node: kubenet and Azure CNI Overlay do, VNet pod IPs do not, BYO CNI perhaps', () => {
    expect(clusterAllocates(KUBENET)).to.equal(true);
    expect(clusterAllocates(OVERLAY)).to.equal(true);
    expect(clusterAllocates(VNET_PODS)).to.equal(false);
    expect(clusterAllocates(BYO)).to.equal(undefined);
    expect(clusterAllocates({ podCidrs: [] })).to.equal(undefined);
  });

  it("in order: the Node's own range, the cluster's allocation, cni.podCIDR, a share of cni.podCIDRPool", () => {
    const pool = { podCIDRPool: { cidr: '10.90.0.0/16' } };
    expect(plan(testConfig({ cni: { podCIDR: '10.90.3.0/24', ...pool } }), BYO, { self: { name: 'edge-1', podCIDRs: ['10.90.3.0/24'] } })).to.deep.equal({
      source: 'node',
      cidrs: ['10.90.3.0/24'],
    });
    expect(plan(testConfig(), KUBENET)).to.deep.equal({ source: 'cluster', certain: true });
    expect(plan(testConfig({ cni: { podCIDR: '10.90.3.0/24', ...pool } }), BYO)).to.deep.equal({ source: 'config', cidrs: ['10.90.3.0/24'] });
    expect(plan(testConfig({ cni: pool }), VNET_PODS)).to.deep.include({ source: 'pool', pool: '10.90.0.0/16', maskSize: 24 });
    expect(plan(testConfig(), BYO)).to.deep.equal({ source: 'cluster', certain: false });
    // A network with its own address management needs none, whatever the cluster.
    expect(plan(testConfig(), VNET_PODS, { needed: false })).to.deep.include({ source: 'none' });
  });

  it("a cluster that allocates does not take a configured range (the Node's range is immutable and the one routed)", () => {
    for (const [cni, field] of [
      [{ podCIDR: '10.90.3.0/24' }, 'cni.podCIDR'],
      [{ podCIDRPool: { cidr: '10.90.0.0/16' } }, 'cni.podCIDRPool'],
    ] as const) {
      const e = refusal(() => plan(testConfig({ cni }), OVERLAY));
      expect(e.issues[0]!.path).to.equal(field);
      expect(e.message).to.contain('the cluster (network plugin azure (overlay)) gives every Node its pod range');
    }
    // Once the Node has its range, a config that names the same range is fine, another one is refused with both.
    expect(plan(testConfig({ cni: { podCIDR: '10.244.7.0/24' } }), OVERLAY, { self: { name: 'edge-1', podCIDRs: ['10.244.7.0/24'] } })).to.deep.equal({
      source: 'node',
      cidrs: ['10.244.7.0/24'],
    });
    expect(
      refusal(() => plan(testConfig({ cni: { podCIDR: '10.244.8.0/24' } }), OVERLAY, { self: { name: 'edge-1', podCIDRs: ['10.244.7.0/24'] } })).message,
    ).to.equal('cni.podCIDR is 10.244.8.0/24, but Node edge-1 already has the pod range 10.244.7.0/24 (spec.podCIDR cannot change once set)');
  });

  it("refuses an overlap with the cluster's pod range, its service range, AKS's reserved ranges or another Node, naming each", () => {
    const others: NodeRange[] = [
      { name: 'edge-2', podCIDRs: ['10.90.3.0/24'] },
      { name: 'aks-nodepool1-0', podCIDRs: ['10.244.0.0/24'] },
    ];
    const cases: [string, RegExp][] = [
      ['10.244.9.0/24', /overlaps the cluster's pod range 10\.244\.0\.0\/16 \(networkProfile\.podCidr\)$/],
      ['10.0.128.0/24', /overlaps the cluster's service range 10\.0\.0\.0\/16 \(networkProfile\.serviceCidr\)$/],
      ['172.31.4.0/24', /overlaps 172\.31\.0\.0\/16 \(reserved by AKS\)$/],
      ['172.16.0.0/12', /overlaps 172\.30\.0\.0\/16 \(reserved by AKS\); 172\.31\.0\.0\/16 \(reserved by AKS\)$/],
      ['169.254.10.0/24', /overlaps 169\.254\.0\.0\/16 \(link-local, reserved by AKS\)$/],
      ['192.0.2.0/25', /192\.0\.2\.0\/24 \(TEST-NET-1, reserved by AKS\)$/],
      ['10.90.0.0/22', /overlaps Node edge-2's pod range 10\.90\.3\.0\/24$/],
    ];
    for (const [range, why] of cases) {
      const e = refusal(() => plan(testConfig({ cni: { podCIDR: range } }), BYO, { others }));
      expect(e.message, range).to.match(new RegExp(`^the pod range ${range.replace(/[./]/g, '\\$&')} \\(cni\\.podCIDR\\) `));
      expect(e.message, range).to.match(why);
      expect(e.issues[0]!.path).to.equal('cni.podCIDR');
    }
    expect(plan(testConfig({ cni: { podCIDR: '10.90.4.0/24' } }), BYO, { others })).to.deep.equal({ source: 'config', cidrs: ['10.90.4.0/24'] });
  });

  it("the Node's own range is checked too (not against the cluster's pod range it was allocated from)", () => {
    expect(plan(testConfig(), KUBENET, { self: { name: 'edge-1', podCIDRs: ['10.244.5.0/24'] } })).to.deep.equal({ source: 'node', cidrs: ['10.244.5.0/24'] });
    const e = refusal(() =>
      plan(testConfig(), KUBENET, { self: { name: 'edge-1', podCIDRs: ['10.244.5.0/24'] }, others: [{ name: 'edge-9', podCIDRs: ['10.244.5.0/24'] }] }),
    );
    expect(e.message).to.equal("the pod range 10.244.5.0/24 (Node edge-1's spec.podCIDR) overlaps Node edge-9's pod range 10.244.5.0/24");
  });

  it('a range must hold an address for every pod the kubelet admits (node.maxPods), wherever it comes from', () => {
    expect(podAddresses(parseCidr('10.90.3.0/24')!)).to.equal(253); // less network, gateway, broadcast
    expect(podAddresses(parseCidr('10.90.3.0/30')!)).to.equal(1);
    expect(podAddresses(parseCidr('10.90.3.4/32')!)).to.equal(0);
    expect(podAddresses(parseCidr('fd00:10:244:1::/64')!)).to.equal(Number.MAX_SAFE_INTEGER);
    const node = (maxPods: number, cni: FlexnodeConfig['cni'] = {}) => testConfig({ node: { maxPods }, cni });
    // Fits: the default 110 in a /25 (125), 250 in a /24.
    expect(plan(node(110, { podCIDR: '10.90.3.0/25' }), BYO)).to.deep.include({ source: 'config' });
    expect(plan(node(250), KUBENET)).to.deep.equal({ source: 'cluster', certain: true });
    const cases: [FlexnodeConfig, ClusterRanges, Partial<PodRangeInput>, RegExp][] = [
      [node(110, { podCIDR: '10.90.3.0/26' }), BYO, {}, /node.maxPods is 110, but cni.podCIDR 10.90.3.0\/26 holds 61 pod address/],
      [node(200, { podCIDRPool: { cidr: '10.90.0.0/16', nodeMaskSize: 25 } }), VNET_PODS, {}, /share of cni.podCIDRPool, 10.90.\d+.\d+\/25 holds 125/],
      [node(300), KUBENET, {}, /a \/24 \(what the cluster gives each Node\), e.g. 10.0.0.0\/24 holds 253/],
      [
        node(300, { podCIDR: '10.244.7.0/24' }),
        BYO,
        { self: { name: 'edge-1', podCIDRs: ['10.244.7.0/24'] } },
        /Node edge-1's spec.podCIDR 10.244.7.0\/24 holds 253/,
      ],
    ];
    for (const [config, cluster, extra, message] of cases) {
      const e = refusal(() => plan(config, cluster, extra));
      expect(e.message).to.match(message);
      expect(e.issues[0]!.path).to.equal('node.maxPods');
    }
    // A range the cluster allocated, once known (a cluster whose node-cidr-mask-size is not /24).
    expect(() => checkAllocatedRange(['10.244.8.0/26'], 'edge-1', BYO, [], 110)).to.throw(ConfigError, /holds 61/);
    expect(() => checkAllocatedRange(['10.244.8.0/24'], 'edge-1', BYO, [], 110)).not.to.throw();
  });

  it('a cluster that allocates none and no range configured: exit 2 naming both fields', () => {
    const e = refusal(() => plan(testConfig(), VNET_PODS));
    expect(e.message).to.contain('allocates none to its Nodes');
    expect(e.hint).to.contain('cni.podCIDR').and.contain('cni.podCIDRPool');
  });

  it('the pool split is deterministic per name, unique against the other Nodes, and refused when full or overlapping', () => {
    const config = testConfig({ cni: { podCIDRPool: { cidr: '10.90.0.0/16', nodeMaskSize: 24 } } });
    const first = plan(config, VNET_PODS);
    expect(plan(config, VNET_PODS)).to.deep.equal(first);
    expect(first.source === 'pool' && first.cidrs[0]).to.equal(`10.90.${Number(nameHash('edge-1') % 256n)}.0/24`);
    // Another Node holds that share: the next free one, still inside the pool.
    const taken = first.source === 'pool' ? first.cidrs[0]! : '';
    const next = plan(config, VNET_PODS, { others: [{ name: 'edge-7', podCIDRs: [taken] }] });
    expect(next.source === 'pool' && next.cidrs[0]).to.not.equal(taken);
    expect(next.source === 'pool' && parseCidr(next.cidrs[0]!)!.bits).to.equal(24);
    // Different names spread over the pool; a thousand names never share a share when each sees the others.
    const held: NodeRange[] = [];
    for (let i = 0; i < 200; i++) {
      const mine = planPodRange({ config, cluster: VNET_PODS, nodeName: `edge-${i}`, others: held, needed: true });
      held.push({ name: `edge-${i}`, podCIDRs: mine.source === 'pool' ? mine.cidrs : [] });
    }
    expect(new Set(held.map((h) => h.podCIDRs[0])).size).to.equal(200);
    const full = testConfig({ cni: { podCIDRPool: { cidr: '10.90.0.0/23', nodeMaskSize: 24 } } });
    expect(
      refusal(() =>
        plan(full, VNET_PODS, {
          others: [
            { name: 'a', podCIDRs: ['10.90.0.0/24'] },
            { name: 'b', podCIDRs: ['10.90.1.0/24'] },
          ],
        }),
      ).message,
    ).to.equal('cni.podCIDRPool 10.90.0.0/23 has no free /24 left (held by a, b)');
    expect(refusal(() => plan(testConfig({ cni: { podCIDRPool: { cidr: '10.0.0.0/8' } } }), VNET_PODS)).message).to.contain(
      "overlaps the cluster's service range 10.0.0.0/16",
    );
    expect(refusal(() => plan(testConfig({ cni: { podCIDRPool: { cidr: '10.90.0.0/16', nodeMaskSize: 12 } } }), VNET_PODS)).issues[0]!.path).to.equal(
      'cni.podCIDRPool.nodeMaskSize',
    );
  });

  it('poolShare skips every slot something forbids, IPv6 pools too', () => {
    const pool = parseCidr('fd00:90::/62')!;
    const forbidden = ['fd00:90::/64', 'fd00:90:0:1::/64', 'fd00:90:0:2::/64'].map((t) => ({ cidr: parseCidr(t)!, what: t }));
    expect(poolShare(pool, 64, 'any-name', forbidden)!.text).to.equal('fd00:90:0:3::/64');
    expect(poolShare(pool, 64, 'any-name', [...forbidden, { cidr: parseCidr('fd00:90:0:3::/64')!, what: 'x' }])).to.equal(undefined);
  });

  it('dual-stack: a Node with an IPv4 and an IPv6 range keeps both, each checked in its family', () => {
    const dual: ClusterRanges = {
      networkPlugin: 'kubenet',
      podCidrs: ['10.244.0.0/16', 'fd00:10:244::/56'],
      serviceCidrs: ['10.0.0.0/16', 'fd00:10:96::/108'],
    };
    expect(plan(testConfig(), dual, { self: { name: 'edge-1', podCIDRs: ['10.244.3.0/24', 'fd00:10:244:3::/64'] } })).to.deep.equal({
      source: 'node',
      cidrs: ['10.244.3.0/24', 'fd00:10:244:3::/64'],
    });
    const e = refusal(() => plan(testConfig(), dual, { self: { name: 'edge-1', podCIDRs: ['10.244.3.0/24', 'fd00:10:96::/112'] } }));
    expect(e.message).to.contain("the cluster's service range fd00:10:96::/108");
  });
});
