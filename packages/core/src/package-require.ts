import { createRequire } from 'node:module';

/**
 * require() anchored at @flexnode/core's package root, wherever this code runs from: its own dist/, or the
 * CLI's bundle made of it (packages/cli/lib). Core's dependencies and build outputs loaded at run time
 * (pino, ajv, the generated schema validator) resolve the same way from both.
 */
export const coreRequire = createRequire(createRequire(import.meta.url).resolve('@flexnode/core/package.json'));

/** An absolute path inside @flexnode/core's package (e.g. `schema/config.schema.json`). */
export const corePath = (relativePath: string): string => coreRequire.resolve(`./${relativePath}`);
