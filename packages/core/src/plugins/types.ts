import type { PluginDefinition } from '@flexnode/sdk';

/** Where a plugin came from; user-installed and linked plugins win over bundled ones for a capability. */
export type PluginKind = 'bundled' | 'user' | 'linked';

/** An oclif plugin that may carry a flexnode plugin (the CLI maps oclif's plugin list to this). */
export interface PluginSource {
  name: string;
  version: string;
  root: string;
  kind: PluginKind;
  /** Its package.json, when the lister read it already (discovery then does not read it again). */
  manifest?: { flexnode?: { plugin?: unknown } };
}

/** A flexnode plugin that loaded and passed the checks. */
export interface LoadedPlugin extends PluginSource {
  definition: PluginDefinition;
  /** What still runs but is deprecated (plugin API version 1 forms): shown by `flexnode steps`, logged by runs. */
  warnings?: readonly string[];
}

/** A plugin left out, and why: shown by `flexnode steps` and `flexnode version`, never fatal. */
export interface PluginProblem {
  plugin: string;
  root?: string;
  reason: string;
  /** What to do about it. */
  fix?: string;
}
