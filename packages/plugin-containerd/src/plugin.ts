import { API_VERSION, definePlugin } from '@flexnode/sdk';
import { containerRuntimeService } from './runtime-service.js';
import { containerdBinaries, containerdConfig, containerdPackages, containerdService, runcBinary } from './steps.js';

/**
 * @flexnode/plugin-containerd: runc and containerd (release artifacts or apt), config.toml and the unit. Every step
 * is part of the `container-runtime` capability: when another plugin provides it, none of them runs.
 */
export default definePlugin({
  name: '@flexnode/plugin-containerd',
  apiVersion: API_VERSION,
  steps: [runcBinary, containerdBinaries, containerdPackages, containerdConfig, containerdService],
  services: [containerRuntimeService],
});
