/**
 * `@flexnode/core`: the runtime behind the flexnode CLI. It never imports a plugin by name: the CLI hands it
 * oclif's plugin list and core discovers, resolves and runs the steps they declare.
 */
export * from './config/index.js';
export * from './plugins/index.js';
export * from './runtime/index.js';
export * from './logging/index.js';
export * from './agent/index.js';
export { writeFileAtomic } from './state/index.js';
