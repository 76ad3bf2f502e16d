import { ArcIdentity, defineService, FlexnodeError, PodCidr, PodCidrErrors, Tokens, type FlexnodeConfig, type Host, type NodeIdentity, type PodCidrService } from '@flexnode/sdk';
import { isUnreachable } from '../kubelet/api.js';
import { nodeName } from '../kubelet/step.js';
import { messageOf } from '../util.js';
import { nodeIdentityApi } from './node-client.js';
import { podCIDRsOf, statusMessage, type NodesApi, type NodesApiOptions } from './nodes.js';
import { parseCidr } from './cidr.js';

const POD_CIDR_PENDING = PodCidrErrors.pending;
const POD_CIDR_UNREADABLE = PodCidrErrors.unreadable;

/**
 * The node's pod CIDRs for a network that takes pod addresses from them: `cni.podCIDR` when set (no cluster
 * needed: also a machine that runs only the runtime and the network), else the Node's spec.podCIDRs, read with the
 * node's identity (kube.pod-cidr registered the Node with its share of `cni.podCIDRPool`, or the cluster allocated
 * it). Errors carry POD_CIDR_PENDING or POD_CIDR_UNREADABLE, so a consumer can fall back to what it recorded.
 */
export function podCidrs(host: Host, config: FlexnodeConfig, identity: NodeIdentity, make?: (o: NodesApiOptions) => NodesApi): PodCidrService {
  return {
    async podCIDRs() {
      if (config.cni?.podCIDR !== undefined) return [parseCidr(config.cni.podCIDR)?.text ?? config.cni.podCIDR];
      const name = await nodeName(host, config);
      const client = await nodeIdentityApi(host, config, identity, make);
      if (!client) {
        throw new FlexnodeError(POD_CIDR_PENDING, `the pod range of ${name} is not known: cni.podCIDR is not set and the node has not joined a cluster yet`, {
          hint: 'set cni.podCIDR (or cni.podCIDRPool), or bootstrap the whole node: its range then comes from the cluster',
        });
      }
      let answer;
      try {
        answer = await client.api.get(name);
      } catch (error) {
        if (isUnreachable(error)) throw new FlexnodeError(POD_CIDR_UNREADABLE, `the pod range of Node ${name} cannot be read: ${client.server} does not answer (${messageOf(error)})`);
        throw error;
      }
      if (answer.status === 404) throw new FlexnodeError(POD_CIDR_PENDING, `Node ${name} is not registered yet: its pod range is not known`);
      if (answer.status !== 200) throw new FlexnodeError(POD_CIDR_UNREADABLE, `reading Node ${name} for its pod range answered ${statusMessage(answer)}`);
      const cidrs = podCIDRsOf(answer.body);
      if (cidrs.length === 0) throw new FlexnodeError(POD_CIDR_PENDING, `Node ${name} has no pod range (spec.podCIDR) yet`);
      return cidrs;
    },
  };
}

/** plugin-kube's `pod-cidr` service. */
export const podCidrService = defineService({
  capability: PodCidr,
  inject: { host: Tokens.Host, config: Tokens.Config, identity: ArcIdentity },
  create: ({ host, config, identity }) => podCidrs(host, config, identity),
});
