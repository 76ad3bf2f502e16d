import { API_VERSION, definePlugin, defineStep, drifted, missing, ok, Tokens, type CheckResult, type FlexnodeConfig } from '@flexnode/sdk';

/** The file this example step manages. Replace the step with your own work. */
export const MARKER = '/etc/flexnode/__STEP_PREFIX__.conf';

/** What the file holds: derived from the config, so a config change shows up as drift. */
export function markerContent(config: FlexnodeConfig): string {
  return `# Written by flexnode (__PLUGIN_NAME__)\nnode=${config.azure.arc?.machineName ?? 'unknown'}\n`;
}

/**
 * `__STEP_PREFIX__.example`: one step with the whole contract. `check` only reads; `install` changes the machine
 * through the Host only (so every change is journaled and a dry run only records it); `uninstall` reverts the
 * journal, which restores what the file was before.
 */
export const exampleStep = defineStep({
  id: '__STEP_PREFIX__.example',
  title: 'example file written by __PLUGIN_NAME__',
  // provides: [Cni],                  // take over a capability (every step of the provider names it; see flexnode steps)
  // after: [ContainerRuntime, 'cni.plugins'], // run after capabilities (typed tokens) or step ids (flexnode steps lists them)
  // To read a capability's service, inject it: { host: Tokens.Host, runtime: ContainerRuntime } (runtime.criEndpoint, ...).
  // (Cni, ContainerRuntime and the other capabilities are exported by @flexnode/sdk.)
  inject: { host: Tokens.Host, config: Tokens.Config },
  create: ({ host, config }) => {
    const check = async (): Promise<CheckResult> => {
      const current = await host.files.readText(MARKER);
      if (current === undefined) return missing(`${MARKER} is absent`);
      if (current !== markerContent(config)) return drifted(`${MARKER} differs from the expected content`);
      return ok();
    };
    return {
      check,
      install: async () => {
        if ((await host.files.stat('/etc/flexnode')) === undefined) await host.files.mkdir('/etc/flexnode');
        await host.files.write(MARKER, markerContent(config), { mode: 0o644 });
      },
      uninstall: () => host.changes.revert(),
    };
  },
});

/** The plugin: the default export of the module named by package.json's `flexnode.plugin`. */
export default definePlugin({
  name: '__PLUGIN_NAME__',
  apiVersion: API_VERSION,
  steps: [exampleStep],
});
