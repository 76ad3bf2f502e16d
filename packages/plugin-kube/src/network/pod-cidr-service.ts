import {
  FlexnodeError,
  isFlexnodeError,
  PodCidrErrors,
  type AzureContext,
  type FlexnodeConfig,
  type Host,
  type NodeIdentity,
  type PodCidrService,
} from '@flexnode/sdk';
import { isUnreachable, type NodeApiOptions } from '../kubelet/api.js';
import { nodeClient } from '../kubelet/node-access.js';
import { nodeName } from '../kubelet/step.js';
import { messageOf } from '../util.js';
import { podCIDRsOf, statusMessage, type NodesApi } from './nodes.js';
import { parseCidr } from './cidr.js';

const POD_CIDR_PENDING = PodCidrErrors.pending;
const POD_CIDR_UNREADABLE = PodCidrErrors.unreadable;

/**
 * The node's pod CIDRs for a network that takes pod addresses from them: `cni.podCIDR` when set (no cluster
 * needed: also a machine that runs only the runtime and the network), else the Node's spec.podCIDRs, read with the
 * node's identity (kube.pod-cidr registered the Node with its share of `cni.podCIDRPool`, or the cluster allocated
 * it). In bootstrap-token mode the network is set up before the kubelet gets its certificate: until then the
 * operator reads it (their credential is there during bootstrap). Errors carry POD_CIDR_PENDING or
 * POD_CIDR_UNREADABLE, so a consumer can fall back to what it recorded.
 */
export function podCidrs(
  host: Host,
  config: FlexnodeConfig,
  identity: NodeIdentity,
  azure?: AzureContext,
  make?: (o: NodeApiOptions) => NodesApi,
): PodCidrService {
  return {
    async podCIDRs() {
      if (config.cni?.podCIDR !== undefined) return [parseCidr(config.cni.podCIDR)?.text ?? config.cni.podCIDR];
      const name = await nodeName(host, config);
      const client = await nodeClient(host, config, identity, make, {
        azure,
        purpose: `reading the pod range of Node ${name} before the kubelet has its certificate`,
      });
      if (!client) {
        throw new FlexnodeError(POD_CIDR_PENDING, `the pod range of ${name} is not known: cni.podCIDR is not set and the node has not joined a cluster yet`, {
          hint: 'set cni.podCIDR (or cni.podCIDRPool), or bootstrap the whole node: its range then comes from the cluster',
        });
      }
      let answer;
      try {
        answer = await client.api.get(name);
      } catch (error) {
        if (isUnreachable(error))
          throw new FlexnodeError(POD_CIDR_UNREADABLE, `the pod range of Node ${name} cannot be read: ${client.server} does not answer (${messageOf(error)})`);
        if (isFlexnodeError(error))
          throw new FlexnodeError(POD_CIDR_UNREADABLE, `the pod range of Node ${name} cannot be read: ${error.message}`, { hint: error.hint, cause: error });
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
