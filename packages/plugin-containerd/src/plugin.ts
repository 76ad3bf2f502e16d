import { API_VERSION, definePlugin } from '@flexnode/sdk';
import { containerdBinaries } from './containerd-binaries.js';
import { containerdConfig } from './containerd-config.js';
import { containerdPackages } from './containerd-packages.js';
import { containerdService } from './containerd-service.js';
import { runcBinary } from './runc-binary.js';

/** @flexnode/plugin-containerd: runc and containerd (release artifacts or apt), config.toml and the unit. */
export default definePlugin({
  name: '@flexnode/plugin-containerd',
  apiVersion: API_VERSION,
  steps: [runcBinary, containerdBinaries, containerdPackages, containerdConfig, containerdService],
});
