import { ContainerRuntime, defineService, Tokens } from '@flexnode/sdk';
import { sandboxImage } from './pause-image.js';
import { Paths, UNIT } from './paths.js';

/**
 * The `container-runtime` service: what the kubelet needs to know of containerd. The kubelet reads it from here,
 * so a plugin that replaces this one (CRI-O, containerd with another OCI runtime) tells it its own values.
 */
export const containerRuntimeService = defineService({
  capability: ContainerRuntime,
  inject: { config: Tokens.Config },
  create: ({ config }) => ({
    criEndpoint: `unix://${Paths.socket}`,
    unit: UNIT,
    // config.toml sets SystemdCgroup = true for runc: the kubelet must drive cgroups through systemd too.
    cgroupDriver: 'systemd' as const,
    // config.toml's sandbox_image: a kubelet that is told the pause image is told the same one.
    sandboxImage: sandboxImage(config),
  }),
});
