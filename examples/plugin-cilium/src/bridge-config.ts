import { Cni, defineStep, missing, ok, Tokens, type CheckResult } from '@flexnode/sdk';
import { bridgeConfigPath } from './paths.js';

/**
 * `cilium.no-bridge-config` (provides `cni`, after `cni-plugins`): plugin-cni's default bridge network is not on
 * the node. With this plugin providing `cni`, plugin-cni's `cni.bridge-config` step does not run (and core
 * uninstalls it when it had run), but a bridge config left by an earlier install or by hand would make the
 * runtime pick the wrong network: it is removed, journaled with its content, so uninstall and unbootstrap put it
 * back. plugin-cni's `cni.plugins` (provides `cni-plugins`) still runs, so the loopback binary containerd needs
 * stays in the CNI bin dir; `after` keeps this step behind it.
 */
export const ciliumNoBridgeConfig = defineStep({
  id: 'cilium.no-bridge-config',
  title: 'default bridge network of plugin-cni removed',
  provides: [Cni],
  after: ['cni-plugins', 'cilium.bpffs', 'cilium.sysctls'],
  inject: { host: Tokens.Host, config: Tokens.Config },
  create: ({ host, config }) => {
    const path = bridgeConfigPath(config);
    const check = async (): Promise<CheckResult> =>
      (await host.files.stat(path)) === undefined
        ? ok(`${path} is absent; Cilium writes its own network config`)
        : missing(`${path} is present: the default bridge network would compete with Cilium's`);
    return {
      check,
      install: async () => {
        await host.files.remove(path);
      },
      uninstall: () => host.changes.revert(),
    };
  },
});
