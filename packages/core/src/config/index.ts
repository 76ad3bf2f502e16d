export { loadConfig, formatIssues, DEFAULT_CONFIG_PATH, type LoadedConfig } from './load.js';
export { validateConfig } from './validate.js';
export { configSchemaPath, configSchema } from './schema.js';
export { findPlaceholders } from './placeholders.js';
