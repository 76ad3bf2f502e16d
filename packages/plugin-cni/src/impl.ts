// The operations of plugin-cni's steps (steps.ts), loaded on first use: lib/lazy/impl.js in the bundle.
export { cniPluginsOps } from './cni-plugins.js';
export { bridgeConfigOps } from './bridge-config.js';
export { cniPluginsArtifact } from './artifact.js';
