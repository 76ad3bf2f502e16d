import { readFileSync } from 'node:fs';
import { corePath } from '../package-require.js';

/** Path of the published JSON Schema (also exported as `@flexnode/core/schema/config.schema.json`). */
export const configSchemaPath = (): string => corePath('schema/config.schema.json');

let cached: Record<string, unknown> | undefined;

/** The config JSON Schema, read once. */
export function configSchema(): Record<string, unknown> {
  cached ??= JSON.parse(readFileSync(configSchemaPath(), 'utf8')) as Record<string, unknown>;
  return cached;
}
