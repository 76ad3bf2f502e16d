import { Cni, ContainerRuntime, type CniService, type ContainerRuntimeService } from '../capabilities.js';

/**
 * The services of a typical node's container runtime and pod network (containerd, the CNI plugins in /opt/cni/bin),
 * which {@link createStep} and {@link runStepCycle} inject when a test does not pass its own in `services`.
 */
export function typicalServices(): Map<symbol, unknown> {
  const runtime: ContainerRuntimeService = {
    criEndpoint: 'unix:///run/containerd/containerd.sock',
    unit: 'containerd.service',
    cgroupDriver: 'systemd',
    sandboxImage: 'mcr.microsoft.com/oss/v2/kubernetes/pause:3.10.2',
  };
  const cni: CniService = { binDir: '/opt/cni/bin', confDir: '/etc/cni/net.d' };
  return new Map<symbol, unknown>([
    [ContainerRuntime, runtime],
    [Cni, cni],
  ]);
}
