import { deferredStep, defineStep, PodCidr, Tokens } from '@flexnode/sdk';

// Every command that reads steps imports this module (the plugin's entry): it holds the definitions only. What
// the steps do is in impl.ts, imported the first time a step runs (the SDK's deferredStep), so `flexnode steps`
// never parses it.
const impl = () => import('./impl.js');

/**
 * `cni.plugins` (provides `cni-plugins`): the CNI plugins release unpacked into `paths.cni.binDir`
 * (default /opt/cni/bin), each file journaled, so that uninstall removes or restores exactly those files.
 * Check: like containerd's binaries, each installed plugin's sha256 against the hashes journaled from the
 * verified tarball (no download), and the recorded artifact against the one the config asks for.
 */
export const cniPlugins = defineStep({
  id: 'cni.plugins',
  title: 'CNI plugins (/opt/cni/bin)',
  provides: ['cni-plugins'],
  artifacts: async (config, arch) => [(await impl()).cniPluginsArtifact(config, arch)],
  inject: { host: Tokens.Host, config: Tokens.Config },
  create: (deps) => deferredStep(async () => (await impl()).cniPluginsOps(deps)),
});

/**
 * `cni.bridge-config` (provides `cni`, after `cni.plugins` and the `pod-cidr` provider):
 * `<paths.cni.confDir>/99-bridge.conflist`, the network the node uses unless another plugin provides `cni`. Its
 * range is the node's pod range from the `pod-cidr` service (plugin-kube: `cni.podCIDR`, or the Node's
 * spec.podCIDRs that the cluster allocated or plugin-kube took from `cni.podCIDRPool`, checked against the
 * cluster's ranges before anything changed), recorded; while that range cannot be read (the API server does not
 * answer) the check and a heal go on with the recorded one. The check parses the file and compares the JSON
 * semantically (formatting and key order do not count).
 */
export const cniBridgeConfig = defineStep({
  id: 'cni.bridge-config',
  title: 'default CNI network (bridge + host-local + portmap)',
  provides: ['cni'],
  after: ['cni.plugins', PodCidr],
  inject: { host: Tokens.Host, config: Tokens.Config, podCidr: PodCidr },
  create: (deps) => deferredStep(async () => (await impl()).bridgeConfigOps(deps)),
});
