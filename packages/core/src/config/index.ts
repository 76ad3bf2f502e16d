export { loadConfig, formatIssues, DEFAULT_CONFIG_PATH, type LoadedConfig } from './load.js';
export { validateConfig } from './validate.js';
export { configSchemaPath, configSchema } from './schema.js';
export { findPlaceholders } from './placeholders.js';
export { stringFields, dotted, type StringField } from './schema-fields.js';
export { stringIssues, urlProblem, controlProblem, templateProblem, SCHEMA_ANNOTATIONS } from './string-rules.js';
