import {
  Cni,
  ContainerRuntime,
  PodCidr,
  PodCidrErrors,
  ServiceProxy,
  type CniService,
  type ContainerRuntimeService,
  type PodCidrService,
  type ServiceProxyService,
} from '../capabilities.js';
import type { FlexnodeConfig } from '../config.js';
import { FlexnodeError } from '../errors.js';

/**
 * The services of a typical node's container runtime, pod network, pod range and service proxy (containerd, the CNI
 * plugins in /opt/cni/bin with a bridge on the node's range, `cni.podCIDR` of the test's config, kube-proxy), which
 * {@link createStep} and {@link runStepCycle} inject when a test does not pass its own in `services`.
 */
export function typicalServices(config?: FlexnodeConfig): Map<symbol, unknown> {
  const runtime: ContainerRuntimeService = {
    criEndpoint: 'unix:///run/containerd/containerd.sock',
    unit: 'containerd.service',
    cgroupDriver: 'systemd',
    sandboxImage: 'mcr.microsoft.com/oss/v2/kubernetes/pause:3.10.2',
  };
  const cni: CniService = { binDir: '/opt/cni/bin', confDir: '/etc/cni/net.d', usesNodePodCIDR: true };
  const podCidr: PodCidrService = {
    podCIDRs: async () => {
      if (config?.cni?.podCIDR) return [config.cni.podCIDR];
      throw new FlexnodeError(PodCidrErrors.pending, 'the test config sets no cni.podCIDR (pass a pod-cidr service)');
    },
  };
  const proxy: ServiceProxyService = { plan: () => ({ implementedBy: 'kube-proxy', nodeLabels: {} }) };
  return new Map<symbol, unknown>([
    [ContainerRuntime, runtime],
    [Cni, cni],
    [PodCidr, podCidr],
    [ServiceProxy, proxy],
  ]);
}
