import { ContainerRuntime, defineService } from '@flexnode/sdk';
import { Paths, UNIT } from './paths.js';

/**
 * The `container-runtime` service: what the kubelet needs to know of containerd. The kubelet reads it from here,
 * so a plugin that replaces this one (CRI-O, containerd with another OCI runtime) tells it its own values.
 */
export const containerRuntimeService = defineService({
  capability: ContainerRuntime,
  create: () => ({
    criEndpoint: `unix://${Paths.socket}`,
    unit: UNIT,
    // config.toml sets SystemdCgroup = true for runc: the kubelet must drive cgroups through systemd too.
    cgroupDriver: 'systemd' as const,
  }),
});
