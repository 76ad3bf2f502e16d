/** What the CLI's entry needs before (or instead of) oclif: flags as data and the plugin listing. */
export { parseArgv, type FlagSpec, type FlagSpecs } from './argv.js';
export { defaultDataDir, listPlugins, listPluginSources, type PluginListing } from './plugin-sources.js';
