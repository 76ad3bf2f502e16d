import { Cni, defineService, Tokens } from '@flexnode/sdk';
import { cniPaths } from './paths.js';

/**
 * The `cni` service: where this network's plugins and config live, for the container runtime's CRI settings; the
 * bridge takes pod addresses from the node's pod range, so plugin-kube decides and checks one.
 */
export const cniService = defineService({
  capability: Cni,
  inject: { config: Tokens.Config },
  create: ({ config }) => ({ ...cniPaths(config), usesNodePodCIDR: true }),
});
