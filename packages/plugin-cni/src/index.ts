/**
 * `@flexnode/plugin-cni`: the CNI plugins and the default bridge network of a flexnode node. The default export
 * of `./plugin` is the plugin; this entry re-exports its steps and helpers for tests and third parties.
 */
export { default as plugin } from './plugin.js';
export { cniPlugins, cniBridgeConfig } from './steps.js';
export { CNI_PLUGINS_RECORD, REQUIRED_PLUGINS } from './cni-plugins.js';
export { bridgeConflist, CNI_VERSION, NETWORK_NAME, BRIDGE, BRIDGE_RECORD } from './bridge-config.js';
export { cniService } from './cni-service.js';
export { cniPluginsArtifact, cniPluginsUrl, cniPluginsSpec } from './artifact.js';
export { CNI_PLUGINS_VERSIONS, DEFAULT_CNI_PLUGINS_VERSION } from './versions.js';
export { validateCIDR } from './pod-cidr.js';
export { cniPaths, CNI_DEFAULTS, BRIDGE_CONFLIST } from './paths.js';
