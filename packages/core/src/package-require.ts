import { createRequire } from 'node:module';

/**
 * require() anchored at @flexnode/core's package root, wherever this code runs from: its own dist/, or the
 * CLI's bundle made of it (packages/cli/lib). Core's dependencies and build outputs loaded at run time
 * (pino, ajv, the generated schema validator) resolve the same way from both.
 */
let rooted: NodeJS.Require | undefined;
/** Found on first use: resolving the package costs a few ms that a command which never needs it should not pay. */
const rootRequire = (): NodeJS.Require => (rooted ??= createRequire(createRequire(import.meta.url).resolve('@flexnode/core/package.json')));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as require() itself
export const coreRequire = (id: string): any => rootRequire()(id);

/** An absolute path inside @flexnode/core's package (e.g. `schema/config.schema.json`). */
export const corePath = (relativePath: string): string => rootRequire().resolve(`./${relativePath}`);
